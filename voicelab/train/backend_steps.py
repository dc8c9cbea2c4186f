"""The only backend-specific code in voicelab: one GAN gradient step per backend.

Introduced in ``notebooks/03_melgan_vocoder.ipynb``.

Everything else (layers, losses, the model, callbacks) is written in ``keras.ops`` and
runs on any backend. Taking gradients is the one thing Keras 3 leaves to the backend,
so a model whose ``train_step`` needs two optimizers (a GAN) calls
:func:`gan_train_step`, which picks the backend's way, following Keras's guides
"Customizing what happens in fit()" for TensorFlow and for PyTorch:

- TensorFlow: record the forward pass on a ``tf.GradientTape``, ask it for gradients.
- PyTorch: ``loss.backward()`` fills each variable's ``.value.grad``; the optimizer is
  applied under ``torch.no_grad()``; gradients are cleared with ``zero_grad()``.

Both do the same step as the MelGAN authors' code: generate once; update the
discriminator on real audio and on the (detached) generated audio; then update the
generator against the *updated* discriminator. The real audio's feature maps from
the first pass are reused as feature-matching targets.

The model passed in provides ``generator``, ``discriminator``, ``g_optimizer``,
``d_optimizer``, ``discriminator_loss(real_outputs, fake_outputs)`` and
``generator_loss(audio, fake, real_outputs, fake_outputs) -> (total, parts)``
(see :class:`voicelab.models.melgan.MelGAN`). :func:`generator_train_step` is the
warm-up step (generator alone, on ``warmup_loss(audio, fake) -> (total, parts)``).
"""

from __future__ import annotations

import keras
from keras import ops

from voicelab.errors import ParameterError
from voicelab.train.callbacks import global_norm


def inference_function(fn, signature=None):
    """``fn`` compiled for repeated inference on inputs of varying length, where the backend can.

    TensorFlow runs a Keras RNN eagerly as a Python ``while`` loop of small ops, one per
    time step; ``tf.function(reduce_retracing=True)`` turns it into one graph, traced
    again only for new input *ranks*, not for every new length (measured on notebook 02's
    TTS model: 0.45 -> 0.017 s of computing per second of speech). ``signature``, a
    ``(shape, dtype)`` per argument with ``None`` for any size (``[((None, None, 40),
    "float32"), ((None,), "int32")]``), or a dict of them for an argument that is a dict,
    traces it once for every shape: one graph whatever came before, so the same input
    gives the same bits. On PyTorch ``fn`` runs eagerly under ``torch.no_grad()`` (about
    0.03 s per second of speech there).
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if signature is not None:
            def spec(arg):
                if isinstance(arg, dict):
                    return {name: spec(value) for name, value in arg.items()}
                shape, dtype = arg
                return tf.TensorSpec(shape, dtype)

            return tf.function(fn, input_signature=[spec(arg) for arg in signature])
        return tf.function(fn, reduce_retracing=True)
    if keras.backend.backend() == "torch":
        import torch

        def no_grad(*args):
            with torch.no_grad():     # inference: no graph of gradients is recorded
                return fn(*args)
        return no_grad
    return fn


def signature_of(value):
    """``value``'s :func:`inference_function` signature: the sizes that vary between calls left free.

    Batch and time vary, features do not: every axis of an integer array is ``None``, every
    axis but the last of a float array (``[B, T, n_mels]`` -> ``(None, None, n_mels)``). A dict
    gives a dict.
    """
    if isinstance(value, dict):
        return {name: signature_of(v) for name, v in value.items()}
    dtype = keras.backend.standardize_dtype(value.dtype)
    shape = tuple(value.shape)
    free = (None,) * len(shape)
    if shape and "float" in dtype:
        free = free[:-1] + (int(shape[-1]),)
    return free, dtype


def any_length_function(fn):
    """``fn`` compiled once for each structure of arguments it is given (ranks, dtypes, feature sizes), for every
    batch size and length (:func:`inference_function` with :func:`signature_of` of the first such call)."""
    compiled = {}

    def call(*args):
        signature = [signature_of(a) for a in args]
        key = repr(signature)
        if key not in compiled:
            compiled[key] = inference_function(fn, signature=signature)
        return compiled[key](*args)
    return call


def input_gradient_norm(critic, x):
    """``||d critic(x) / d x||`` per example ``[B]``, differentiable in the critic's weights.

    The gradient of the critic's output with respect to its *input* is backend work
    (TensorFlow: a ``GradientTape`` watching ``x``; PyTorch: ``torch.autograd.grad``
    with ``create_graph=True``); both keep the graph, so a loss built on the norm (the
    WGAN-GP gradient penalty, :func:`voicelab.models.losses.gradient_penalty`) trains
    the critic: on TensorFlow inside an outer tape, on PyTorch through ``backward``.
    Groundwork of notebook 05's VoiceGAN.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(critic(x, training=True))   # summed inside the tape, or it is not recorded
        grads = tape.gradient(total, x)
    elif backend == "torch":
        import torch

        x = ops.convert_to_tensor(x).detach().requires_grad_(True)
        y = critic(x, training=True)
        (grads,) = torch.autograd.grad(ops.sum(y), x, create_graph=True)
    else:
        raise ParameterError(f"KERAS_BACKEND={backend!r}: input gradients exist for 'tensorflow' and 'torch'")
    flat = ops.reshape(grads, (ops.shape(grads)[0], -1))
    return ops.sqrt(ops.sum(ops.square(flat), axis=1) + 1e-12)


def minimize(model, loss_fn, variables, optimizer):
    """One ``optimizer`` update of ``variables`` on ``loss_fn()``; returns ``(loss, gradient norm)``.

    The generic step of a model with several optimizers whose losses need no shared
    forward pass (notebook 05's VoiceGAN: the critic's updates, then the generator's).
    ``model`` is the Keras model that owns the variables (its gradients are cleared on
    PyTorch, so none leaks into the next update).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, variables)
        optimizer.apply(grads, variables)
        return loss, global_norm(grads)
    if backend == "torch":
        loss = loss_fn()
        return loss.detach(), _torch_update(model, loss, variables, optimizer)
    raise ParameterError(f"KERAS_BACKEND={backend!r}: the update exists for 'tensorflow' and 'torch'")


def generator_train_step(model, mel, audio) -> dict:
    """One generator update on ``model.warmup_loss`` alone (no discriminator): the warm-up.

    Returns ``g_loss``, the generator loss's parts and ``g_grad_norm``.
    """
    backend = keras.backend.backend()
    generator = model.generator
    g_vars = generator.trainable_variables
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            g_loss, parts = model.warmup_loss(audio, generator(mel, training=True))
        g_grads = tape.gradient(g_loss, g_vars)
        model.g_optimizer.apply(g_grads, g_vars)
        return {"g_loss": g_loss, **parts, "g_grad_norm": global_norm(g_grads)}
    if backend == "torch":
        g_loss, parts = model.warmup_loss(audio, generator(mel, training=True))
        g_grad_norm = _torch_update(model, g_loss, g_vars, model.g_optimizer)
        return {"g_loss": g_loss.detach(), **{k: v.detach() for k, v in parts.items()},
                "g_grad_norm": g_grad_norm}
    raise ParameterError(
        f"KERAS_BACKEND={backend!r}: the generator step exists for 'tensorflow' and 'torch'")


def gan_train_step(model, mel, audio) -> dict:
    """One discriminator update then one generator update; returns this step's values.

    Returns ``d_loss, g_loss`` and the generator loss's parts, plus
    ``g_grad_norm, d_grad_norm`` (global L2 norms of each network's gradients).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_step(model, mel, audio)
    if backend == "torch":
        return _torch_step(model, mel, audio)
    raise ParameterError(
        f"KERAS_BACKEND={backend!r}: the GAN step exists for 'tensorflow' and 'torch'")


def _tensorflow_step(model, mel, audio) -> dict:
    import tensorflow as tf

    generator, discriminator = model.generator, model.discriminator
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    with tf.GradientTape() as g_tape:
        fake = generator(mel, training=True)
        with g_tape.stop_recording():           # the discriminator's update is not part of G's loss
            with tf.GradientTape() as d_tape:
                real_outputs = discriminator(audio, training=True)
                fake_outputs = discriminator(ops.stop_gradient(fake), training=True)
                d_loss = model.discriminator_loss(real_outputs, fake_outputs)
            d_grads = d_tape.gradient(d_loss, d_vars)
            model.d_optimizer.apply(d_grads, d_vars)
        g_loss, parts = model.generator_loss(audio, fake, real_outputs,
                                             discriminator(fake, training=True))
    g_grads = g_tape.gradient(g_loss, g_vars)
    model.g_optimizer.apply(g_grads, g_vars)
    return {"d_loss": d_loss, "g_loss": g_loss, **parts,
            "g_grad_norm": global_norm(g_grads), "d_grad_norm": global_norm(d_grads)}


def _torch_step(model, mel, audio) -> dict:
    generator, discriminator = model.generator, model.discriminator
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    fake = generator(mel, training=True)
    real_outputs = discriminator(audio, training=True)
    fake_outputs = discriminator(ops.stop_gradient(fake), training=True)  # detach: D only
    d_loss = model.discriminator_loss(real_outputs, fake_outputs)
    d_grad_norm = _torch_update(model, d_loss, d_vars, model.d_optimizer)

    # G's loss backpropagates through D; _torch_update drops those gradients of D's weights
    g_loss, parts = model.generator_loss(audio, fake, real_outputs,
                                         discriminator(fake, training=True))
    g_grad_norm = _torch_update(model, g_loss, g_vars, model.g_optimizer)
    return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
            **{k: v.detach() for k, v in parts.items()},
            "g_grad_norm": g_grad_norm, "d_grad_norm": d_grad_norm}


def _torch_update(model, loss, variables, optimizer):
    """Backpropagate ``loss`` and apply ``optimizer`` to ``variables``; returns the gradients' norm.

    Every gradient of ``model`` is cleared before and after, so none leaks into the
    next update (the other network's, or the next step's).
    """
    import torch

    model.zero_grad()
    loss.backward()
    grads = [v.value.grad for v in variables]
    grad_norm = global_norm(grads)
    with torch.no_grad():
        optimizer.apply(grads, variables)
    model.zero_grad()
    return grad_norm
