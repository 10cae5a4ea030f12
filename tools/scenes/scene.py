"""tools/scenes/scene.py — what a scene is (1-3 objects, each a shape, colour, size and slot) drawn from a seed,
and its canonical English: the description and the answers to each question form. The words here are the
whole language of the demo model."""
from dataclasses import dataclass, field

from .rng import Rng

SHAPES = ["circle", "square", "triangle", "star", "cross"]
# name -> (hue range in degrees, lowest value): wide enough that a person's "red" or "green" in a paint
# program lands inside, with gaps between names so noise never crosses them
COLOURS = {
    "red": ((-12, 8), 0.55),
    "orange": ((20, 40), 0.85),
    "yellow": ((48, 62), 0.85),
    "green": ((95, 145), 0.45),
    "blue": ((200, 245), 0.55),
    "purple": ((265, 305), 0.45),
}
SIZES = ["small", "large"]
# slots in reading order; (column, row) on a plus-shaped grid of five places
SLOTS = {"top": (0, -1), "left": (-1, 0), "centre": (0, 0), "right": (1, 0), "bottom": (0, 1)}
SLOT_ORDER = list(SLOTS)
SLOT_PHRASE = {"top": "at the top", "left": "on the left", "centre": "in the centre", "right": "on the right",
               "bottom": "at the bottom"}
NUMBERS = {1: "one", 2: "two", 3: "three"}

Q_DESCRIBE = "Describe the image."
Q_COUNT = "How many shapes are there?"
Q_COLOUR = "What colour is the {}?"
Q_WHERE = "Where is the {}?"
FORMS = ["describe", "count", "colour", "where"]


@dataclass
class Obj:
    shape: str
    colour: str
    size: str
    slot: str


@dataclass
class Scene:
    seed: int
    objects: list = field(default_factory=list)  # in slot reading order

    def find(self, shape):
        for o in self.objects:
            if o.shape == shape:
                return o
        return None


def make_scene(seed):
    """The objects of scene `seed`: distinct shapes (so "the circle" names one object) in distinct slots."""
    r = Rng(seed, stream=1)
    n = 1 + r.below(3)
    shapes = r.sample(SHAPES, n)
    slots = r.sample(SLOT_ORDER, n)
    objs = [Obj(s, r.choice(list(COLOURS)), r.choice(SIZES), p) for s, p in zip(shapes, slots)]
    # a large object in the centre leaves no room for a large one beside it: one side becomes small
    centre = next((o for o in objs if o.slot == "centre"), None)
    clash = [o for o in objs if o is not centre and o.size == "large"]
    if centre is not None and centre.size == "large" and clash:
        if r.chance(0.5):
            centre.size = "small"
        else:
            for o in clash:
                o.size = "small"
    objs.sort(key=lambda o: SLOT_ORDER.index(o.slot))
    return Scene(seed, objs)


def relation(a, b):
    """Where slot a lies relative to slot b: the vertical relation wins on diagonals."""
    (ax, ay), (bx, by) = SLOTS[a], SLOTS[b]
    if ay != by:
        return "above" if ay < by else "below"
    return "left of" if ax < bx else "right of"


def noun_phrase(o):
    return f"{o.size} {o.colour} {o.shape}"


def describe(scene):
    parts = [f"a {noun_phrase(o)} {SLOT_PHRASE[o.slot]}" for o in scene.objects]
    if len(parts) == 1:
        text = parts[0]
    else:
        text = ", ".join(parts[:-1]) + " and " + parts[-1]
    return text[0].upper() + text[1:] + "."


def count(scene):
    n = len(scene.objects)
    return "There is one shape." if n == 1 else f"There are {NUMBERS[n]} shapes."


def colour(scene, shape):
    """Names the place before the colour: the model finds the shape's place as it does for "Where is ...?" and
    then reads the colour there, as it does when describing (a colour-only answer left it reading the colour of
    a neighbour in a third of the pictures with two or three shapes)."""
    o = scene.find(shape)
    return f"There is no {shape}." if o is None else f"The {shape} {SLOT_PHRASE[o.slot]} is {o.colour}."


def where(scene, shape):
    o = scene.find(shape)
    if o is None:
        return f"There is no {shape}."
    text = f"The {shape} is {SLOT_PHRASE[o.slot]}"
    others = [f"{relation(o.slot, p.slot)} the {p.shape}" for p in scene.objects if p is not o]
    if others:
        text += ", " + " and ".join(others)
    return text + "."


def question(form, shape=None):
    return {"describe": Q_DESCRIBE, "count": Q_COUNT, "colour": Q_COLOUR.format(shape),
            "where": Q_WHERE.format(shape)}[form]


def answer(scene, form, shape=None):
    return {"describe": lambda: describe(scene), "count": lambda: count(scene),
            "colour": lambda: colour(scene, shape), "where": lambda: where(scene, shape)}[form]()


def pick_shape(scene, rng, p_absent=0.15):
    """The shape a colour/where question asks about: usually one in the picture, sometimes one that is not."""
    absent = [s for s in SHAPES if scene.find(s) is None]
    if absent and rng.chance(p_absent):
        return rng.choice(absent)
    return rng.choice(scene.objects).shape


def qa_pairs(scene, rng=None):
    """One (form, question, answer) per form; the asked-about shape is drawn from the scene's own stream."""
    rng = rng or Rng(scene.seed, stream=3)
    out = []
    for form in FORMS:
        shape = pick_shape(scene, rng) if form in ("colour", "where") else None
        out.append((form, question(form, shape), answer(scene, form, shape)))
    return out


def all_texts():
    """Every word the language uses, for building the vocabulary."""
    words = set()
    texts = [Q_DESCRIBE, Q_COUNT] + [Q_COLOUR.format(s) for s in SHAPES] + [Q_WHERE.format(s) for s in SHAPES]
    texts += ["There is one shape.", "There are two shapes.", "There are three shapes."]
    texts += [f"There is no {s}." for s in SHAPES] + [f"The {s} is {c}." for s in SHAPES for c in COLOURS]
    texts += [f"A {z} {c} {s} {p}, a b and c." for z in SIZES for c in COLOURS for s in SHAPES
              for p in SLOT_PHRASE.values()]
    texts += [f"x {rel} the y" for rel in ("above", "below", "left of", "right of")]
    for t in texts:
        words.update(t.replace(".", " .").replace(",", " ,").replace("?", " ?").split())
    return texts, words
