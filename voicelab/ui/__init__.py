"""What the notebooks show: figures (``plots``), players and explorers (``widgets``),
the text-to-speech widget (``tts_widget``), the voice-conversion widget
(``conversion_widget``) and listening tests (``listening``).

Only ``voicelab.recipes`` and the notebooks import this layer.
"""
