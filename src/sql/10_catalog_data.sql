
--
-- 10_catalog_data: the default trait catalog, spirits and name components.
-- Rows are marked builtin: CREATE EXTENSION recreates them, pg_dump skips them.
--

INSERT INTO ecs.trait_catalog (trait_name, position, weight, mode, mutation_sd, builtin) VALUES
    ('strength',      0, 1.0, 'similar',    0.05, true),
    ('agility',       1, 1.0, 'similar',    0.05, true),
    ('endurance',     2, 1.2, 'similar',    0.04, true),
    ('intelligence',  3, 1.5, 'similar',    0.03, true),
    ('curiosity',     4, 0.8, 'complement', 0.06, true),
    ('sociability',   5, 1.0, 'similar',    0.05, true),
    ('aggression',    6, 1.3, 'complement', 0.05, true),
    ('empathy',       7, 1.2, 'similar',    0.04, true),
    ('fertility',     8, 0.7, 'similar',    0.02, true),
    ('longevity',     9, 0.9, 'similar',    0.02, true),
    ('size',         10, 0.6, 'complement', 0.05, true),
    ('speed',        11, 0.8, 'similar',    0.05, true),
    ('camouflage',   12, 0.5, 'similar',    0.06, true),
    ('resilience',   13, 1.1, 'similar',    0.03, true),
    ('dominance',    14, 1.4, 'complement', 0.05, true),
    ('patience',     15, 0.9, 'complement', 0.04, true);

INSERT INTO ecs.naming_spirits (spirit_id, display_name, enabled, builtin, favoured_trait) VALUES
    ('wolf', 'Wolf', true, true, 'sociability'),
    ('bear', 'Bear', true, true, 'strength'),
    ('eagle', 'Eagle', true, true, 'speed'),
    ('fox', 'Fox', true, true, 'intelligence'),
    ('owl', 'Owl', true, true, 'patience'),
    ('raven', 'Raven', true, true, 'curiosity'),
    ('stag', 'Stag', true, true, 'dominance'),
    ('otter', 'Otter', true, true, 'agility'),
    ('lynx', 'Lynx', true, true, 'camouflage'),
    ('hawk', 'Hawk', true, true, 'aggression'),
    ('serpent', 'Serpent', true, true, 'resilience'),
    ('tortoise', 'Tortoise', true, true, 'longevity'),
    ('badger', 'Badger', true, true, 'endurance'),
    ('phoenix', 'Phoenix', false, true, 'fertility');

-- shared parts (spirit_id NULL): 32 prefixes x 24 roots x 8 suffixes x 8 titles
INSERT INTO ecs.naming_components (spirit_id, component_type, value, weight, builtin)
SELECT NULL, 'prefix', v, 1, true FROM pg_catalog.unnest(ARRAY[
    'Swift', 'Storm', 'Moon', 'Sun', 'Iron', 'Silver', 'Shadow', 'Frost',
    'Ember', 'Thorn', 'River', 'Stone', 'Wind', 'Ash', 'Bright', 'Dusk',
    'Dawn', 'Star', 'Mist', 'Rain', 'Thunder', 'Oak', 'Red', 'Black',
    'White', 'Gold', 'Quiet', 'Wild', 'Long', 'Deep', 'Cloud', 'Fern']) AS v;
INSERT INTO ecs.naming_components (spirit_id, component_type, value, weight, builtin)
SELECT NULL, 'root', v, 1, true FROM pg_catalog.unnest(ARRAY[
    'fang', 'claw', 'heart', 'song', 'eye', 'step', 'wing', 'tail',
    'mane', 'hide', 'call', 'blade', 'run', 'leap', 'watch', 'fur',
    'spark', 'shade', 'brook', 'crest', 'horn', 'paw', 'whisper', 'strike']) AS v;
INSERT INTO ecs.naming_components (spirit_id, component_type, value, weight, builtin)
SELECT NULL, 'suffix', v, w, true FROM (VALUES
    ('the Elder', 1), ('the Younger', 1), ('the Bold', 1), ('the Wise', 1),
    ('Twice-Born', 0.5), ('the Wanderer', 1), ('the Patient', 0.5), ('the Keen', 1)) AS s(v, w);
INSERT INTO ecs.naming_components (spirit_id, component_type, value, weight, builtin)
SELECT NULL, 'title', v, 1, true FROM pg_catalog.unnest(ARRAY[
    'Elder', 'Swift', 'Silent', 'Ancient', 'Wandering', 'Hidden', 'Watchful', 'Restless']) AS v;

-- spirit-specific parts: two roots and four titles each
INSERT INTO ecs.naming_components (spirit_id, component_type, value, weight, builtin)
SELECT s.spirit_id, t.component_type, t.value, 1.5, true
FROM (VALUES
    ('wolf', 'root', 'howl'), ('wolf', 'root', 'pelt'),
    ('wolf', 'title', 'Grey'), ('wolf', 'title', 'Howling'), ('wolf', 'title', 'Lone'), ('wolf', 'title', 'Northern'),
    ('bear', 'root', 'maul'), ('bear', 'root', 'honey'),
    ('bear', 'title', 'Great'), ('bear', 'title', 'Cave'), ('bear', 'title', 'Brown'), ('bear', 'title', 'Sleeping'),
    ('eagle', 'root', 'talon'), ('eagle', 'root', 'sky'),
    ('eagle', 'title', 'Golden'), ('eagle', 'title', 'High'), ('eagle', 'title', 'Far-Seeing'), ('eagle', 'title', 'Soaring'),
    ('fox', 'root', 'brush'), ('fox', 'root', 'trick'),
    ('fox', 'title', 'Red'), ('fox', 'title', 'Sly'), ('fox', 'title', 'Silver'), ('fox', 'title', 'Dancing'),
    ('owl', 'root', 'hoot'), ('owl', 'root', 'night'),
    ('owl', 'title', 'Snowy'), ('owl', 'title', 'Horned'), ('owl', 'title', 'Midnight'), ('owl', 'title', 'Knowing'),
    ('raven', 'root', 'quill'), ('raven', 'root', 'caw'),
    ('raven', 'title', 'Black'), ('raven', 'title', 'Clever'), ('raven', 'title', 'Storm'), ('raven', 'title', 'Riddling'),
    ('stag', 'root', 'antler'), ('stag', 'root', 'hart'),
    ('stag', 'title', 'Crowned'), ('stag', 'title', 'White'), ('stag', 'title', 'Forest'), ('stag', 'title', 'Proud'),
    ('otter', 'root', 'ripple'), ('otter', 'root', 'splash'),
    ('otter', 'title', 'River'), ('otter', 'title', 'Playful'), ('otter', 'title', 'Sleek'), ('otter', 'title', 'Laughing'),
    ('lynx', 'root', 'tuft'), ('lynx', 'root', 'pounce'),
    ('lynx', 'title', 'Mountain'), ('lynx', 'title', 'Spotted'), ('lynx', 'title', 'Keen-Eyed'), ('lynx', 'title', 'Snow'),
    ('hawk', 'root', 'dive'), ('hawk', 'root', 'gale'),
    ('hawk', 'title', 'Red-Tailed'), ('hawk', 'title', 'Hunting'), ('hawk', 'title', 'Sky'), ('hawk', 'title', 'Circling'),
    ('serpent', 'root', 'coil'), ('serpent', 'root', 'scale'),
    ('serpent', 'title', 'Green'), ('serpent', 'title', 'Coiled'), ('serpent', 'title', 'Venomous'), ('serpent', 'title', 'Sun-Warmed'),
    ('tortoise', 'root', 'shell'), ('tortoise', 'root', 'moss'),
    ('tortoise', 'title', 'Patient'), ('tortoise', 'title', 'Old'), ('tortoise', 'title', 'Steadfast'), ('tortoise', 'title', 'Desert'),
    ('badger', 'root', 'burrow'), ('badger', 'root', 'stripe'),
    ('badger', 'title', 'Honey'), ('badger', 'title', 'Stubborn'), ('badger', 'title', 'Earth'), ('badger', 'title', 'Fearless'),
    ('phoenix', 'root', 'flame'), ('phoenix', 'root', 'pyre'),
    ('phoenix', 'title', 'Burning'), ('phoenix', 'title', 'Reborn'), ('phoenix', 'title', 'Scarlet'), ('phoenix', 'title', 'Undying')
) AS t(spirit_id, component_type, value)
JOIN ecs.naming_spirits s ON s.spirit_id OPERATOR(pg_catalog.=) t.spirit_id;
