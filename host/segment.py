"""Split a captcha into its digit crops, left to right, for the per-digit CNN (host/seg.py).

The AIS digits are drawn in dark colours (every channel below ~170), one colour per digit,
with antialiased edges: an edge pixel is its digit's colour blended with white. The noise
asterisks are pastel (every channel >= ~160, one well above).

1. Digit colours ("seeds") are the commonest exact colours among the core (surely digit)
   pixels. Each pixel takes the seed that explains it as a blend with white, and how much
   of it (alpha, its ink); mixes of two colours, and noise, fit no seed and carry no ink.
   Core pixels of one seed join into 8-connected components, so touching or overlapping
   digits of different colours come apart by themselves.
2. Then the components are brought to exactly `digits`: fragments (a digit cut by an
   asterisk drawn over it) merge into a touching neighbour of their colour or are dropped;
   extra pieces merge by cost (gap, colour, width); over-wide blobs (touching digits of one
   colour) split at their weakest column.
3. Each digit becomes a CROP x CROP crop with two planes: the digit's own ink (its pixels
   plus their antialiased rim), and all ink around it (context, so the CNN copes when a
   stroke went to a neighbour), scaled to fit BOX x BOX.

numpy only, and nothing per pixel in Python: about a millisecond and a half per 104x32
image. What keeps it there: whole-image steps over per-component ones (every digit's rim grows
at once, one bit each of a uint8 per pixel), component stats combined on a merge rather than
recomputed, and no numpy call with a large fixed cost in the loops (np.median, tril_indices,
reductions along the 3-wide colour axis). Every rewrite of this kind must keep the outputs
bit-identical: the seg CNN was trained on these crops.
"""

from __future__ import annotations

import numpy as np

# Core pixels (surely digit ink): digit colours have every channel below ~170, even the grey
# ones (~155); pastel noise has every channel >= 160 and one well above.
CORE_MAX = 190  # brightest channel below this
CORE_MIN = 158  # darkest channel below this
MIN_ALPHA = 0.12  # a pixel with less of a digit colour than this is paper
SEED_PIXELS = 4  # a digit colour is an exact colour at least this many core pixels have
SEED_APART = 18.0  # RGB distance between two digit colours (after the white blend fit)
FITS_SEED = 28.0  # a pixel further than this from every digit colour is a mix: no digit's own
MAX_SEEDS = 24
MAX_CANDIDATES = 96  # commonest colours looked at when choosing seeds
MIN_PIXELS = 3  # components smaller than this are dropped (specks on seams)
MAX_SEGMENT_PIXELS = 65_536  # bigger images are not segmented (None): captchas are ~3,300 pixels
MAX_COMPONENTS_PER_DIGIT = 4  # real captchas have under 3 per digit (plus a margin of 8)
CROP = 28  # crop side in pixels
BOX = 24  # the digit is scaled to fit this box inside the crop
PLANES = 2  # own ink, context ink


def _squares(v: np.ndarray) -> np.ndarray:
    """(v * v).sum(axis=1) of (N, 3) vectors, the same floats (left to right), without numpy's
    slow reduction along a short axis."""
    return v[:, 0] * v[:, 0] + v[:, 1] * v[:, 1] + v[:, 2] * v[:, 2]


def _blend_fit(v: np.ndarray, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, residual), each (N, K): the best `alpha * seed` (0 <= alpha <= 1) for each ink
    vector, and its distance in RGB units.

    `v` and `seeds` are ink vectors (255 - rgb). An antialiased edge pixel is its digit's
    colour blended with white, so it lies on that segment: residual ~0. Unlike an angle,
    this tells dark colours apart.
    """
    dots = v @ seeds.T
    norms = _squares(seeds)
    a = dots / np.maximum(norms, 1e-6)
    np.minimum(np.maximum(a, 0.0, out=a), 1.0, out=a)  # np.clip, faster
    sq = _squares(v)[:, None] - 2 * a * dots
    sq += a * a * norms
    np.maximum(sq, 0.0, out=sq)
    return a, np.sqrt(sq, out=sq)


def digit_colours(rgb: np.ndarray, core: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label, alpha): which digit colour explains each pixel (H, W) int, -1 for none, and
    how much of that colour it holds (H, W) float32 in [0, 1] (its ink, 0 for paper/noise).

    The digit colours ("seeds") are the commonest exact colours among the core pixels,
    each unlike every seed before it. A pixel takes the seed that explains it best as a
    blend with white; mixes of two digits or of a digit and noise fit none and get none.
    """
    h, w = core.shape
    label = np.full(h * w, -1, np.int64)
    alpha = np.zeros(h * w, np.float32)
    flat = rgb.reshape(-1, 3)
    r, g, b = (flat[:, c].astype(np.int64) for c in range(3))
    core_at = np.flatnonzero(core)
    ink_code = 0xFFFFFF - (r << 16 | g << 8 | b)[core_at]  # one int per exact colour
    _, first, counts = np.unique(ink_code, return_index=True, return_counts=True)
    by_count = np.argsort(-counts, kind="stable")
    common = core_at[first[by_count[counts[by_count] >= SEED_PIXELS]][:MAX_CANDIDATES]]
    candidates = 255.0 - flat[common].astype(np.float32)
    # Greedy, commonest first: a candidate becomes a seed unless it is near (fits as a blend
    # of) a seed chosen before it; so choose one, mark all near it, skip to the next unmarked.
    near = ~(_blend_fit(candidates, candidates)[1] > SEED_APART)  # [j, i]: j is near seed i
    marked = np.zeros(len(candidates), bool)
    chosen: list[int] = []
    j = 0
    while j < len(candidates) and len(chosen) < MAX_SEEDS:
        chosen.append(j)
        marked |= near[:, j]
        later = np.flatnonzero(~marked[j + 1 :])
        if not len(later):
            break
        j += 1 + int(later[0])
    if chosen:
        seeds = candidates[chosen]
        darkest = np.minimum(np.minimum(r, g), b)
        inked = np.flatnonzero(darkest < 255)  # skip the white paper
        v = 255.0 - flat[inked].astype(np.float32)
        a, residual = _blend_fit(v, seeds)
        best = residual.argmin(axis=1)
        rows = np.arange(len(v))
        a_best = a[rows, best]
        ok = np.flatnonzero((residual[rows, best] <= FITS_SEED) & (a_best >= MIN_ALPHA))
        label[inked[ok]] = best[ok]
        alpha[inked[ok]] = a_best[ok]
    return label.reshape(h, w), alpha.reshape(h, w)


# Offsets (dy, dx) of the 8-neighbours in the row below; the rest are their mirror or in the
# same row (the runs).
_OFFSETS = ((1, 0), (1, 1), (1, -1))


def _pair_slices(h: int, w: int, dy: int, dx: int) -> tuple[tuple[slice, slice], ...]:
    """Slices (a, b) so that b-pixel = a-pixel + (dy, dx)."""
    a_x = slice(0, w - dx) if dx >= 0 else slice(-dx, w)
    b_x = slice(dx, w) if dx >= 0 else slice(0, w + dx)
    return (slice(0, h - dy), a_x), (slice(dy, h), b_x)


def components(labels: np.ndarray) -> np.ndarray:
    """8-connected components of pixels with the same label >= 0.

    Returns ids (H, W) int: -1 where labels < 0, else a component number: the row-major
    rank, among the labelled pixels, of the component's first pixel. Vectorised union-find:
    each pixel starts pointing at the first pixel of its run (same-label pixels side by side
    in a row); then over the list of same-label neighbour pairs in the row below, each round
    hooks every root to the smallest root it touches and compresses paths; a few rounds suffice.
    """
    h, w = labels.shape
    mask = labels >= 0
    index = np.full((h, w), -1, np.int64)
    n = int(mask.sum())
    index[mask] = np.arange(n)
    # a pixel that continues its left neighbour's run is the next labelled pixel after it, so
    # the latest run start at or before each pixel (a running maximum) is its run's first pixel
    continues = np.zeros(n, bool)
    continues[index[:, 1:][mask[:, 1:] & (labels[:, 1:] == labels[:, :-1])]] = True
    parent = np.maximum.accumulate(np.where(continues, 0, np.arange(n)))
    firsts, seconds = [], []
    for dy, dx in _OFFSETS:
        a, b = _pair_slices(h, w, dy, dx)
        ok = mask[a] & (labels[a] == labels[b])
        firsts.append(index[a][ok])
        seconds.append(index[b][ok])
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    while True:
        ra, rb = parent[first], parent[second]
        differ = ra != rb
        if not differ.any():
            break
        # every write points a root at a smaller root of the same component, so any winner is right
        parent[np.maximum(ra, rb)[differ]] = np.minimum(ra, rb)[differ]
        while True:  # path compression until every pixel points at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    ids = np.full((h, w), -1, np.int64)
    ids[mask] = parent
    return ids


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) triangle-filter weights, like PIL's BILINEAR (widened when shrinking)."""
    scale = n_in / n_out
    support = max(1.0, scale)
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    src = np.arange(n_in)
    weights = np.maximum(0.0, 1.0 - np.abs(src[None, :] - centres[:, None]) / support)
    return (weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)).astype(np.float32)


_MATRICES: dict[tuple[int, int], np.ndarray] = {}


def resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Cached `_resize_matrix`: crops come in a few dozen sizes."""
    key = (n_in, n_out)
    if key not in _MATRICES:
        _MATRICES[key] = _resize_matrix(n_in, n_out)
    return _MATRICES[key]


def fit(planes: np.ndarray) -> np.ndarray:
    """Scale (P, h, w) planes to fit BOX x BOX, keeping the aspect, centred in CROP x CROP."""
    _, h, w = planes.shape
    scale = min(BOX / h, BOX / w)
    oh, ow = max(1, round(h * scale)), max(1, round(w * scale))
    out = np.zeros((planes.shape[0], CROP, CROP), np.float32)
    y, x = (CROP - oh) // 2, (CROP - ow) // 2
    out[:, y : y + oh, x : x + ow] = resize_matrix(h, oh) @ planes @ resize_matrix(w, ow).T
    return out


PIECE_GAP = 4  # rows between two pieces of one digit cut by an asterisk
PIECE_SHARE = 0.35  # a piece this much smaller than a typical digit is no digit of its own
SPLIT_WIDTH = 0.95  # a blob this wide (times the typical digit height) may hold two digits
REVIVE_PIXELS = 6  # smallest fragment that may stand for a digit
FRAGMENT = 15  # components with fewer pixels are fragments: merged into a neighbour or dropped


def _unit(sums: np.ndarray) -> np.ndarray:
    """Rows of (K, 3) ink sums scaled to unit length: the components' colours."""
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-6)


class _Parts:
    """The digit candidates: a component id per pixel (-1: none) and per-component stats.

    Components are numbered 0..K-1 in the order of their first (row-major) pixel's old id,
    and every stat array is indexed by that number. `colour` is the unit mean ink vector
    (255 - rgb) of each component; `seed` the digit colour (label) of its first pixel.
    """

    def __init__(
        self, ids: np.ndarray, rgb: np.ndarray, strength: np.ndarray, label: np.ndarray
    ) -> None:
        self.ids = ids
        self.strength = strength
        self.label = label
        self.ink = 255.0 - rgb.astype(np.float32)
        self.update()

    def update(self) -> None:
        """Renumber ids 0..K-1 (keeping their order) and recompute every stat from the pixels."""
        flat_ids = self.ids.reshape(-1)
        flat = np.flatnonzero(flat_ids >= 0)  # row-major
        ids = flat_ids[flat]
        # renumber by rank (what np.unique would give) with a table instead of a sort
        present = np.zeros(int(ids.max()) + 1 if len(ids) else 1, bool)
        present[ids] = True
        compact = (np.cumsum(present) - 1)[ids]
        k = int(present.sum())
        flat_ids[flat] = compact
        self.k = k
        self.n = np.bincount(compact, minlength=k)
        # The pixels grouped by component, each group still row-major (a stable sort): a group's
        # first pixel is its top and first, its last is its bottom, and reduceat takes the rest.
        grouped = flat[np.argsort(compact, kind="stable")]
        starts = np.cumsum(self.n) - self.n
        ys, xs = np.divmod(grouped, self.ids.shape[1])
        if k == 0:  # reduceat needs a group
            self.x0 = self.y0 = self.x1 = self.y1 = self.first = np.zeros(0, np.int64)
            self.sums = np.zeros((0, 3))
        else:
            self.y0 = ys[starts]
            self.y1 = ys[starts + self.n - 1]
            self.x0 = np.minimum.reduceat(xs, starts)
            self.x1 = np.maximum.reduceat(xs, starts)
            self.first = grouped[starts]
            # float64 sums of integer inks are exact, so any order (merge's too) gives the same
            ink = self.ink.reshape(-1, 3)[grouped].astype(np.float64)
            self.sums = np.add.reduceat(ink, starts)
        self.seed = self.label.reshape(-1)[self.first]
        self.colour = _unit(self.sums)

    def order(self) -> np.ndarray:
        """Component numbers left to right, by the centre of their boxes."""
        return np.argsort(self.x0 + self.x1, kind="stable")

    def _remove(self, gone: int) -> None:
        """Forget component `gone` (its pixels already renamed): the numbers above it move down,
        as update() would renumber them, and so do their stats."""
        self.ids[self.ids > gone] -= 1
        rest = np.flatnonzero(np.arange(self.k) != gone)
        for name in ("n", "x0", "y0", "x1", "y1", "first", "seed", "sums", "colour"):
            setattr(self, name, getattr(self, name)[rest])
        self.k -= 1

    def merge(self, keep: int, gone: int) -> None:
        """Join component `gone` into `keep`: the stats are combined, not recomputed."""
        self.ids[self.ids == gone] = keep
        self.n[keep] += self.n[gone]
        self.x0[keep] = min(self.x0[keep], self.x0[gone])
        self.y0[keep] = min(self.y0[keep], self.y0[gone])
        self.x1[keep] = max(self.x1[keep], self.x1[gone])
        self.y1[keep] = max(self.y1[keep], self.y1[gone])
        if self.first[gone] < self.first[keep]:  # the first pixel, and its colour, is gone's
            self.first[keep], self.seed[keep] = self.first[gone], self.seed[gone]
        self.sums[keep] += self.sums[gone]
        self.colour[keep] = _unit(self.sums[keep : keep + 1])[0]
        self._remove(gone)

    def drop(self, gone: int) -> None:
        self.ids[self.ids == gone] = -1
        self._remove(gone)

    def touching(self, a: int) -> np.ndarray:
        """(K,) bool: the other components whose boxes touch or overlap box `a` (`gap` (0, 0))."""
        near = (self.x0 <= self.x1[a] + 1) & (self.x0[a] <= self.x1 + 1)
        near &= (self.y0 <= self.y1[a] + 1) & (self.y0[a] <= self.y1 + 1)
        near[a] = False
        return near

    def split(self, a: int) -> bool:
        """Cut component `a` at its weakest column in the middle half; False if too narrow."""
        x0, x1 = int(self.x0[a]), int(self.x1[a])
        width = x1 - x0 + 1
        lo, hi = x0 + width // 4, x1 - width // 4
        if width < 6 or hi <= lo:
            return False
        mine = self.ids == a
        columns = (self.strength * mine)[:, lo : hi + 1].sum(axis=0)
        # weakest column; ties go to the one nearest the middle
        centre = (lo + hi) / 2
        order = np.lexsort((np.abs(np.arange(lo, hi + 1) - centre), np.round(columns, 3)))
        cut = lo + int(order[0])
        right = mine.copy()
        right[:, :cut] = False
        self.ids[right] = self.k
        self.update()
        return True


def _median(values: np.ndarray) -> float:
    """np.median of a short int array, the same float, without np.median's overhead (~20 us)."""
    s = np.sort(values)
    m = len(s) // 2
    return float(s[m]) if len(s) % 2 else (float(s[m - 1]) + float(s[m])) / 2


def _upper(k: int) -> np.ndarray:
    """(k, k) mask of the pairs a < b: each pair once, never with itself (faster than tril)."""
    count = np.arange(k)
    return count[:, None] < count[None, :]


def _to_count(parts: _Parts, digits: int) -> bool:
    """Merge fragments and split blobs until there are `digits` components; False if stuck."""
    # Pieces of one digit cut apart by asterisks drawn over it: same colour and close, and
    # either one above the other (digits stand side by side, never stacked) or one of them
    # too small to be a digit and the two together no wider than one. Always joined.
    while parts.k > 1:
        big = parts.n >= FRAGMENT
        if not big.any():
            break
        typical_n = _median(parts.n[big])
        typical_h = _median((parts.y1 - parts.y0 + 1)[big])
        width = parts.x1 - parts.x0 + 1
        overlap = np.minimum.outer(parts.x1, parts.x1) - np.maximum.outer(parts.x0, parts.x0) + 1
        gap_y = np.maximum.outer(parts.y0, parts.y0) - np.minimum.outer(parts.y1, parts.y1) - 1
        union = np.maximum.outer(parts.x1, parts.x1) - np.minimum.outer(parts.x0, parts.x0) + 1
        stacked = overlap >= 0.5 * np.minimum.outer(width, width)
        small = (
            (overlap >= -2)  # a gap of at most two columns
            & (np.minimum.outer(parts.n, parts.n) < PIECE_SHARE * typical_n)
            & (union <= 0.9 * typical_h)
        )
        join = (parts.seed[:, None] == parts.seed[None, :]) & (gap_y <= PIECE_GAP)
        join &= (stacked | small) & _upper(parts.k)
        if not join.any():
            break
        a, b = np.unravel_index(int(join.argmax()), join.shape)
        parts.merge(int(a), int(b))
    # Fragments touching a component of a similar colour join it.
    while True:
        pair = None
        for f in np.argsort(parts.n, kind="stable"):
            if parts.n[f] >= FRAGMENT:
                break
            best, best_cos = -1, 0.9
            for other in np.flatnonzero(parts.touching(int(f))).tolist():
                cos = float(parts.colour[f] @ parts.colour[other])
                if cos > best_cos:
                    best, best_cos = other, cos
            if best >= 0:
                pair = (best, int(f))
                break
        if pair is None:
            break
        parts.merge(*pair)
    # Lone fragments are noise, unless digits are missing that no over-wide blob can supply:
    # then the largest fragments are what an asterisk left of a digit.
    fragment = parts.n < FRAGMENT
    if fragment.any():
        keep = ~fragment
        heights = (parts.y1 - parts.y0 + 1)[keep] if keep.any() else parts.y1 - parts.y0 + 1
        overwide = int(((parts.x1 - parts.x0 + 1)[keep] >= SPLIT_WIDTH * _median(heights)).sum())
        missing = digits - int(keep.sum()) - overwide
        if missing > 0:
            revivable = np.flatnonzero(fragment & (parts.n >= REVIVE_PIXELS))
            keep[revivable[np.argsort(-parts.n[revivable], kind="stable")][:missing]] = True
        parts.ids[(parts.ids >= 0) & ~keep[np.maximum(parts.ids, 0)]] = -1
        parts.update()
    # Too many: merge the cheapest pair (close, same colour, not too wide together).
    while parts.k > digits:
        height = _median(parts.y1 - parts.y0 + 1)
        gap = np.maximum(
            0, np.maximum.outer(parts.x0, parts.x0) - np.minimum.outer(parts.x1, parts.x1) - 1
        )
        width = np.maximum.outer(parts.x1, parts.x1) - np.minimum.outer(parts.x0, parts.x0) + 1
        cost = (
            gap + 20 * (1 - parts.colour @ parts.colour.T) + np.maximum(0.0, width - 0.8 * height)
        )
        cost[~_upper(parts.k)] = np.inf  # each pair once, never with itself
        a, b = np.unravel_index(int(cost.argmin()), cost.shape)
        parts.merge(int(a), int(b))
    # Too few: split the widest blob.
    while 0 < parts.k < digits:
        if not parts.split(int((parts.x1 - parts.x0).argmax())):
            return False
    return parts.k == digits


# (a, b) slice pairs: pixel a and its neighbour b, for each of the 4 directions.
_RIM = (
    ((slice(1, None),), (slice(None, -1),)),
    ((slice(None, -1),), (slice(1, None),)),
    ((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
    ((slice(None), slice(None, -1)), (slice(None), slice(1, None))),
)
_BITS = 8  # components grown at once: one bit each of a uint8 per pixel (captchas have 3 or 6)


def _own_ink(parts: _Parts) -> list[np.ndarray]:
    """Each component's own ink: its pixels grown by two 4-neighbour steps into unclaimed ink
    of the same colour (the antialiased rim). One (H, W) uint8 per 8 components, bit c % 8
    of chunk c // 8 set where component c reaches, so all of them grow in the same few
    whole-image steps instead of one component at a time."""
    ids, label = parts.ids, parts.label
    free = (ids < 0) & (label >= 0)
    # where pixel a may take what its neighbour b has
    joins = [(a, b, free[a] & (label[a] == label[b])) for a, b in _RIM]
    chunks = []
    for lo in range(0, parts.k, _BITS):
        mine = (ids >= lo) & (ids < lo + _BITS)
        grown = np.zeros(ids.shape, np.uint8)
        grown[mine] = np.left_shift(1, ids[mine] - lo)
        for _ in range(2):
            step = grown.copy()
            for a, b, join in joins:
                step[a] |= grown[b] * join
            grown = step
        chunks.append(grown)
    return chunks


def crops(parts: _Parts) -> np.ndarray:
    """(K, PLANES, CROP, CROP) crops, left to right by box centre."""
    h, w = parts.ids.shape
    own_ink = _own_ink(parts)
    out = np.empty((parts.k, PLANES, CROP, CROP), np.float32)
    for i, c in enumerate(parts.order().tolist()):
        # the box and a pixel around it: as far as two rim steps from the box may reach
        y0, y1 = max(0, parts.y0[c] - 1), min(h, parts.y1[c] + 2)
        x0, x1 = max(0, parts.x0[c] - 1), min(w, parts.x1[c] + 2)
        ink_ = parts.strength[y0:y1, x0:x1]
        grown = (own_ink[c // _BITS][y0:y1, x0:x1] & (1 << c % _BITS)) != 0
        own = ink_ * grown
        # a pale digit is a dark colour thinly blended with white: scale its ink to peak at 1
        gain = 1.0 / max(float(own.max()), MIN_ALPHA)
        out[i] = np.minimum(fit(np.stack([own, ink_])) * gain, 1.0)
    return out


# The last image `pieces` was asked about and its answer: the Solver asks twice per image
# (the seg reader, then host/plausibility.py), and this is most of segmentation's time.
_last: list[tuple[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]]] = []


def pieces(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, label, alpha) of an RGB uint8 image: its core pixels' same-colour 8-connected
    components (ids, -1 for none; specks dropped), before any merging or splitting, and
    `digit_colours`' label and alpha (read-only). The caller owns `ids`."""
    key = (rgb.shape, rgb.tobytes())
    entry = _last[0] if _last else None
    if entry is not None and entry[0] == key:
        ids, label, alpha = entry[1]
        return ids.copy(), label, alpha
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    brightest = np.maximum(np.maximum(r, g), b)
    darkest = np.minimum(np.minimum(r, g), b)
    core = (brightest < CORE_MAX) & (darkest < CORE_MIN)
    label, alpha = digit_colours(rgb, core)
    ids = components(np.where(core, label, -1))
    on = ids >= 0
    sizes = np.bincount(ids[on], minlength=1)
    ids[on & (sizes[np.maximum(ids, 0)] < MIN_PIXELS)] = -1  # specks on seams
    label.flags.writeable = False
    alpha.flags.writeable = False
    _last[:] = [(key, (ids.copy(), label, alpha))]
    return ids, label, alpha


def find_digits(rgb: np.ndarray, digits: int) -> _Parts | None:
    """The `digits` digit components of an RGB image, or None (see `segment`)."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or digits < 1:
        return None
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        return None
    h, w = rgb.shape[:2]
    if h < 4 or w < 4 or h * w > MAX_SEGMENT_PIXELS:
        return None
    ids, label, alpha = pieces(rgb)
    parts = _Parts(ids, rgb, alpha, label)
    if parts.k > MAX_COMPONENTS_PER_DIGIT * digits + 8:
        return None  # confetti, not a captcha: merging it would only burn time
    return parts if _to_count(parts, digits) else None


def segment(rgb: np.ndarray, digits: int) -> np.ndarray | None:
    """`digits` crops (digits, PLANES, CROP, CROP) float32 in [0, 1], left to right, or None.

    None when the image is not an RGB array of a usable size or its ink does not come
    apart into exactly `digits` digits. Never raises on an array input.
    """
    parts = find_digits(rgb, digits)
    return None if parts is None else crops(parts)
