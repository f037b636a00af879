#!/usr/bin/env python3
"""Writes data/sample/: small, made-up examples of the ten decathlon tasks in
their original file formats and decaNLP's folder layout, for the quick start and
the tests. Every sentence is generated here from templates; nothing is copied
from the real datasets. Deterministic: rerunning gives the same bytes.

Run from the repository root: python3 scripts/make_sample_data.py
"""
import hashlib
import json
import os
import random

ROOT = os.path.join('data', 'sample')
rng = random.Random(20261125)

PEOPLE = ['Anna', 'Boris', 'Chen', 'Dara', 'Emil', 'Fatima', 'Goran', 'Hana', 'Ivo', 'Jun', 'Karin', 'Luca']
CITIES = ['Lisbon', 'Oslo', 'Quito', 'Hanoi', 'Dakar', 'Perth', 'Riga', 'Lima', 'Turin', 'Graz', 'Accra', 'Bern']
THINGS = ['bridge', 'library', 'museum', 'harbor', 'tower', 'market', 'garden', 'station', 'theater', 'school']
YEARS = list(range(1850, 2020, 7))


def path(*parts):
    p = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def write(rel, text):
    with open(path(*rel.split('/')), 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)


def jsonl(rows):
    return ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows)


# --- SQuAD v1.1 -------------------------------------------------------------------
def squad(n_paragraphs, title_prefix):
    data = []
    for p in range(n_paragraphs):
        person, city, thing, year = rng.choice(PEOPLE), rng.choice(CITIES), rng.choice(THINGS), rng.choice(YEARS)
        context = (f'The {thing} of {city} was designed by {person} and opened in {year}. '
                   f'It is known for its {rng.choice(["red", "white", "green", "stone"])} walls, '
                   f'and every summer about {rng.randint(2, 90)} thousand visitors come to see it.')
        qas = []
        for q, a in [(f'Who designed the {thing} of {city}?', person),
                     (f'When did the {thing} of {city} open?', str(year)),
                     (f'In which city is the {thing} designed by {person}?', city)]:
            qas.append({'answers': [{'answer_start': context.index(a), 'text': a}],
                        'question': q, 'id': hashlib.sha1(q.encode()).hexdigest()[:24]})
        data.append({'title': f'{title_prefix}_{p}', 'paragraphs': [{'context': context, 'qas': qas}]})
    return json.dumps({'data': data, 'version': '1.1'}, indent=1) + '\n'


write('squad/train-v1.1.json', squad(14, 'Train'))
write('squad/dev-v1.1.json', squad(4, 'Dev'))

# --- IWSLT en-de ------------------------------------------------------------------
EN_DE = [
    ('The house is small.', 'Das Haus ist klein.'), ('The dog is old.', 'Der Hund ist alt.'),
    ('I like the book.', 'Ich mag das Buch.'), ('We see the city.', 'Wir sehen die Stadt.'),
    ('The child plays in the garden.', 'Das Kind spielt im Garten.'),
    ('She reads a letter.', 'Sie liest einen Brief.'), ('He drinks water.', 'Er trinkt Wasser.'),
    ('The train is late.', 'Der Zug ist spät.'), ('My friend lives in Berlin.', 'Mein Freund wohnt in Berlin.'),
    ('The sun is warm today.', 'Die Sonne ist heute warm.'), ('We eat bread.', 'Wir essen Brot.'),
    ('The woman buys a car.', 'Die Frau kauft ein Auto.'), ('I am tired.', 'Ich bin müde.'),
    ('The cat sleeps.', 'Die Katze schläft.'), ('They open the door.', 'Sie öffnen die Tür.'),
    ('The street is long.', 'Die Straße ist lang.'), ('He writes a song.', 'Er schreibt ein Lied.'),
    ('The water is cold.', 'Das Wasser ist kalt.'), ('I see the man.', 'Ich sehe den Mann.'),
    ('The flower is red.', 'Die Blume ist rot.'), ('We learn German.', 'Wir lernen Deutsch.'),
    ('The room is bright.', 'Das Zimmer ist hell.'), ('She has a sister.', 'Sie hat eine Schwester.'),
    ('The bird sings.', 'Der Vogel singt.'), ('I need time.', 'Ich brauche Zeit.'),
    ('The school is new.', 'Die Schule ist neu.'), ('He likes music.', 'Er mag Musik.'),
    ('The table is big.', 'Der Tisch ist groß.'), ('We go home.', 'Wir gehen nach Hause.'),
    ('The night is quiet.', 'Die Nacht ist ruhig.'), ('The boy runs fast.', 'Der Junge läuft schnell.'),
    ('I drink coffee.', 'Ich trinke Kaffee.'), ('The sea is blue.', 'Das Meer ist blau.'),
]
train_pairs, dev_pairs, test_pairs = EN_DE[:25], EN_DE[25:29], EN_DE[29:]


def train_tags(pairs, side):
    lines = ['<url>http://talks.example/sample</url>', '<keywords>talks, sample</keywords>',
             '<talkid>1</talkid>', '<title>A sample talk</title>', '<description>Made up for deca.</description>']
    return '\n'.join(lines + [p[side] for p in pairs]) + '\n'


def xml(pairs, side, lang, setname):
    segs = '\n'.join(f'<seg id="{i + 1}"> {p[side].replace("&", "&amp;")} </seg>' for i, p in enumerate(pairs))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<mteval>\n<{setname} setid="sample" srclang="en"'
            f' trglang="de">\n<doc docid="1" genre="lectures">\n<url>http://talks.example/1</url>\n'
            f'<talkid>1</talkid>\n<title>Sample</title>\n{segs}\n</doc>\n</{setname}>\n</mteval>\n')


for lang, side in [('en', 0), ('de', 1)]:
    write(f'iwslt/en-de/train.tags.en-de.{lang}', train_tags(train_pairs, side))
    kind = 'srcset' if lang == 'en' else 'refset'
    write(f'iwslt/en-de/IWSLT16.TED.tst2013.en-de.{lang}.xml', xml(dev_pairs, side, lang, kind))
    write(f'iwslt/en-de/IWSLT16.TED.tst2014.en-de.{lang}.xml', xml(test_pairs, side, lang, kind))


# --- CNN / DailyMail ----------------------------------------------------------------
def story():
    person, city, thing = rng.choice(PEOPLE), rng.choice(CITIES), rng.choice(THINGS)
    n = rng.randint(3, 40)
    article = [f'{city} (Sample News) -- The new {thing} in {city} opened on Monday after {n} months of work.',
               f'Mayor {person} said the {thing} would serve the whole region',
               f'"We waited a long time for this," {person} told reporters.',
               f'About {n * 10} people attended the opening ceremony.']
    highlights = [f'New {thing} opens in {city} after {n} months', f'Mayor {person} says it will serve the region']
    return '\n\n'.join(article) + '\n\n' + '\n\n'.join('@highlight\n\n' + h for h in highlights) + '\n'


for split, count in [('training', 12), ('validation', 3), ('test', 3)]:
    urls = []
    for i in range(count):
        url = f'http://news.example/sample/{split}/{i}.html'
        urls.append(url)
        write(f'cnn/cnn/stories/{hashlib.sha1(url.encode()).hexdigest()}.story', story())
    write(f'cnn/cnn/cnn_wayback_{split}_urls.txt', '\n'.join(urls) + '\n')
    write(f'dailymail/dailymail/dailymail_wayback_{split}_urls.txt', '')


# --- MultiNLI -------------------------------------------------------------------------
def nli(n, genre):
    rows = []
    for i in range(n):
        person, city = rng.choice(PEOPLE), rng.choice(CITIES)
        kind = i % 3
        premise = f'{person} moved to {city} last year and works at a {rng.choice(THINGS)}.'
        hypothesis = [f'{person} lives in {city}.', f'{person} likes the weather in {city}.',
                      f'{person} has never been to {city}.'][kind]
        label = ['entailment', 'neutral', 'contradiction'][kind]
        rows.append({'annotator_labels': [label], 'genre': genre, 'gold_label': label, 'pairID': f'{i}e',
                     'promptID': str(i), 'sentence1': premise, 'sentence2': hypothesis})
    return jsonl(rows)


write('multinli/multinli_1.0/multinli_1.0_train.jsonl', nli(30, 'fiction'))
write('multinli/multinli_1.0/multinli_1.0_dev_matched.jsonl', nli(6, 'fiction'))
write('multinli/multinli_1.0/multinli_1.0_dev_mismatched.jsonl', nli(6, 'letters'))

# --- SST --------------------------------------------------------------------------------
GOOD = ['a warm, funny and moving film', 'the best performance of the year', 'smart, lively and beautifully shot',
        'a delight from start to finish', 'clever writing and a great cast', 'an honest, touching story']
BAD = ['a dull and lifeless mess', 'the plot makes no sense at all', 'boring, slow and far too long',
       'a waste of a good cast', 'flat jokes and wooden acting', 'nothing here works, sadly']


def sst(n):
    rows = ['label,sentence']
    for i in range(n):
        label = i % 2
        text = rng.choice(GOOD if label else BAD)
        text = text[0].upper() + text[1:] + '.'
        rows.append(f'{label},"{text}"' if ',' in text else f'{label},{text}')
    return '\n'.join(rows) + '\n'


write('sst/train_binary_sent.csv', sst(40))
write('sst/dev_binary_sent.csv', sst(8))
write('sst/test_binary_sent.csv', sst(8))


# --- QA-SRL ------------------------------------------------------------------------------
def srl(n, start):
    blocks = []
    for i in range(n):
        person, thing, city = rng.choice(PEOPLE), rng.choice(THINGS), rng.choice(CITIES)
        sentence = f'{person} built the {thing} in {city} .'
        blocks.append('\n'.join([
            f'WIKI1_{start + i}\t{i}', sentence, '1\tbuilt\t2',
            f'who\t_\t_\tbuilt\tsomething\t_\t_\t?\t{person}',
            f'what\t_\t_\tbuilt\t_\t_\t_\t?\tthe {thing}',
        ]))
    return '\n\n'.join(blocks) + '\n\n'


write('srl/wiki1.train.qa', srl(15, 0))
write('srl/wiki1.dev.qa', srl(3, 100))
write('srl/wiki1.test.qa', srl(3, 200))

# --- QA-ZRE -------------------------------------------------------------------------------
RELATIONS = [('place of birth', 'Where was XXX born?'), ('employer', 'Who employs XXX?'),
             ('educated at', 'Where did XXX study?')]


def zre(n, relation):
    lines = []
    for i in range(n):
        person, city = rng.choice(PEOPLE), rng.choice(CITIES)
        rel, template = relation
        if i % 3 == 2:
            lines.append(f'{rel}\t{template}\t{person}\t{person} gave a talk in {city}.')
        else:
            lines.append(f'{rel}\t{template}\t{person}\t{person} was born in {city} and studied at the {city} '
                         f'university; the {city} {rng.choice(THINGS)} employs {person}.\t{city}')
    return '\n'.join(lines) + '\n'


write('zre/relation_splits/train.0', zre(30, RELATIONS[0]))
write('zre/relation_splits/dev.0', zre(6, RELATIONS[1]))
write('zre/relation_splits/test.0', zre(6, RELATIONS[2]))

# --- WOZ 2.0 --------------------------------------------------------------------------------
FOODS = ['italian', 'chinese', 'indian', 'thai', 'french']
AREAS = ['north', 'south', 'east', 'west', 'centre']


def woz(n, lang):
    dialogues = []
    for d in range(n):
        food, area = rng.choice(FOODS), rng.choice(AREAS)
        turns = [
            {'turn_idx': 0, 'system_transcript': '', 'system_acts': [],
             'transcript': f'I want a {food} restaurant in the {area} of town.',
             'belief_state': [{'slots': [['food', food]], 'act': 'inform'}, {'slots': [['area', area]], 'act': 'inform'}],
             'turn_label': [['food', food], ['area', area]], 'asr': []},
            {'turn_idx': 1, 'system_transcript': 'There is one. Anything else?', 'system_acts': ['phone'],
             'transcript': 'What is the phone number?',
             'belief_state': [{'slots': [['food', food]], 'act': 'inform'}, {'slots': [['area', area]], 'act': 'inform'},
                              {'slots': [['slot', 'phone']], 'act': 'request'}],
             'turn_label': [['request', 'phone']], 'asr': []},
            {'turn_idx': 2, 'system_transcript': 'Here it is.', 'system_acts': [['food', food]],
             'transcript': 'Thank you, goodbye.',
             'belief_state': [{'slots': [['food', food]], 'act': 'inform'}, {'slots': [['area', area]], 'act': 'inform'}],
             'turn_label': [], 'asr': []},
        ]
        dialogues.append({'dialogue_idx': d, 'dialogue': turns})
    return json.dumps(dialogues, indent=1) + '\n'


for split, n in [('train', 10), ('validate', 2), ('test', 2)]:
    write(f'woz/woz_{split}_en.json', woz(n, 'en'))

# --- WikiSQL -----------------------------------------------------------------------------------
HEADER = ['City', 'Country', 'Population', 'Mayor']


def wikisql(n, prefix):
    table_id = f'{prefix}-1'
    rows, qs = [], []
    for i in range(n):
        city, person = rng.choice(CITIES), rng.choice(PEOPLE)
        kind = i % 3
        if kind == 0:
            q, sql = f'Who is the mayor of {city}?', {'sel': 3, 'agg': 0, 'conds': [[0, 0, city]]}
        elif kind == 1:
            q, sql = f'What is the population of the city whose mayor is {person}?', {'sel': 2, 'agg': 0, 'conds': [[3, 0, person]]}
        else:
            pop = rng.randint(10, 900) * 1000
            q, sql = f'How many cities have a population larger than {pop}?', {'sel': 0, 'agg': 3, 'conds': [[2, 1, pop]]}
        qs.append({'phase': 1, 'table_id': table_id, 'question': q, 'sql': sql})
    table = {'header': HEADER, 'id': table_id, 'types': ['text', 'text', 'real', 'text'], 'rows': []}
    return jsonl(qs), jsonl([table])


for split, n in [('train', 30), ('dev', 6), ('test', 6)]:
    q, t = wikisql(n, split)
    write(f'wikisql/data/{split}.jsonl', q)
    write(f'wikisql/data/{split}.tables.jsonl', t)

# --- MWSC ---------------------------------------------------------------------------------------
# decaNLP's split keeps the last 100 examples for test and the first 80 for
# train, so the sample needs more than 90 schemas to have all three splits.
PAIRS = [('trophy', 'suitcase', 'large', 'small', "doesn't fit into"),
         ('ball', 'box', 'big', 'tiny', 'does not fit in'),
         ('sofa', 'door', 'wide', 'narrow', 'could not pass through'),
         ('table', 'van', 'long', 'short', "doesn't fit in")]
schemas = []
for i in range(96):
    a, b, big, small, verb = PAIRS[i % len(PAIRS)]
    color = ['red', 'blue', 'old', 'new', 'wooden', 'heavy'][i % 6]
    schemas.append(f'The {color} {a} {verb} the {b} because it is too [{big}/{small}].\n'
                   f'What is too [{big}/{small}]?\n{a}/{b}')
write('schema/schema.txt', '\n\n'.join(schemas) + '\n\n')

# --- A custom JSONL task ----------------------------------------------------------------------
def custom(n):
    rows = []
    for i in range(n):
        person, city = rng.choice(PEOPLE), rng.choice(CITIES)
        rows.append({'context': f'{person} flew from {city} to Paris.', 'question': f'Where did {person} fly from?',
                     'answer': [city, f'from {city}']})
    return jsonl(rows)


write('capitals/train.jsonl', custom(10))
write('capitals/validation.jsonl', custom(3))
write('capitals/test.jsonl', custom(3))

# The marker by which deca's executables recognise the sample (deca::kSampleMarker)
# and warn that its scores mean nothing.
write('SAMPLE.md', """# deca's embedded sample data

Made-up examples of every task in its original file format and decaNLP's
folder layout, written by `scripts/make_sample_data.py` from templates: nothing
here comes from the real datasets. They make the quick start and the tests
run; scores on them mean nothing. For real data, give `--data-root` the folder
that holds the tasks' original files (README.md, "Data").

deca's executables recognise this folder by this file and say so in their log.
""")
print('wrote', ROOT)
