"""What kind of product this is, from its title and description.

English product titles put the head noun last ("Baseball cap", "Cap-sleeve tee", "Denim jacket"),
so the last category word of the title decides. The description is only consulted when the title
names nothing, and there the first category word wins (later ones tend to be styling tips such as
"pair it with jeans").
"""

from __future__ import annotations

import re
from typing import Literal

Category = Literal["top", "bottom", "dress", "accessory"]

_WORDS: dict[Category, tuple[str, ...]] = {
    "top": (
        "shirt",
        "shirts",
        "tshirt",
        "t-shirt",
        "tee",
        "tees",
        "top",
        "tops",
        "blouse",
        "sweater",
        "sweatshirt",
        "hoodie",
        "hoody",
        "jumper",
        "pullover",
        "cardigan",
        "jacket",
        "coat",
        "blazer",
        "vest",
        "gilet",
        "polo",
        "tank",
        "camisole",
        "parka",
        "anorak",
        "fleece",
        "overshirt",
        "henley",
        "tunic",
        "quarter-zip",
        "half-zip",
        "crewneck",
        "turtleneck",
        "windbreaker",
        "bomber",
        "trucker",
        "knit",
        "jersey",
        "longsleeve",
        "long-sleeve",
        "bodysuit",
        "crop",
    ),
    "bottom": (
        "pants",
        "pant",
        "trousers",
        "trouser",
        "jeans",
        "jean",
        "leggings",
        "legging",
        "tights",
        "shorts",
        "short",
        "skirt",
        "skirts",
        "chinos",
        "chino",
        "joggers",
        "jogger",
        "sweatpants",
        "culottes",
        "cargos",
        "slacks",
        "overalls",
        "dungarees",
        "capris",
        "bermudas",
    ),
    "dress": ("dress", "dresses", "gown", "jumpsuit", "playsuit", "romper", "kaftan"),
    "accessory": (
        "hat",
        "hats",
        "cap",
        "caps",
        "beanie",
        "beret",
        "bucket",
        "glasses",
        "sunglasses",
        "eyewear",
        "goggles",
        "shoe",
        "shoes",
        "sneaker",
        "sneakers",
        "trainers",
        "boot",
        "boots",
        "sandal",
        "sandals",
        "heels",
        "loafers",
        "slippers",
        "bag",
        "bags",
        "handbag",
        "backpack",
        "tote",
        "purse",
        "clutch",
        "wallet",
        "belt",
        "scarf",
        "gloves",
        "glove",
        "mittens",
        "watch",
        "necklace",
        "bracelet",
        "earrings",
        "earring",
        "ring",
        "jewelry",
        "jewellery",
        "socks",
        "tie",
        "bowtie",
        "umbrella",
        "headband",
        "mask",
    ),
}
_LOOKUP: dict[str, Category] = {word: cat for cat, words in _WORDS.items() for word in words}
# "Short" is usually an adjective ("short sleeve"); it only names shorts at the end of a title.
_ADJECTIVES = {"short", "crop", "top", "tank", "bucket", "knit", "jersey", "trucker"}
_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)?")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("t shirt", "tshirt"))


def category_from_text(title: str | None, description: str | None = None) -> Category | None:
    """The product category named by the title (last match) or description (first), else None."""
    if title:
        # "Jeans with belt", "Shirt and tie": the product is what comes first.
        title = re.split(r"\s(?:with|and|&|\+)\s", title.lower())[0]
        tokens = _tokens(title)
        hits = [(i, _LOOKUP[t]) for i, t in enumerate(tokens) if t in _LOOKUP]
        # Adjective-like words only count when nothing stronger is in the title.
        strong = [h for h in hits if tokens[h[0]] not in _ADJECTIVES or h[0] == len(tokens) - 1]
        chosen = strong or hits
        if chosen:
            return chosen[-1][1]
    if description:
        for token in _tokens(description):
            if token in _LOOKUP and token not in _ADJECTIVES:
                return _LOOKUP[token]
    return None
