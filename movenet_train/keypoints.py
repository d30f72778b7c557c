"""Keypoint schemas: which joints a model predicts, how a flip maps them, the skeleton, OKS sigmas, torso.

Every stage reads one ``KeypointSchema``: the conversion (values per person), the targets and losses (channels),
the flip augmentation, the heads (``num_keypoints``), decoding, COCO eval (pycocotools with the schema's
sigmas, orientation slices), export, the tracker (torso points) and the drawing. Each takes the schema as an
argument: a forgotten one is an error, not a silent COCO-17. ``DEFAULT_SCHEMA`` (COCO-17) is what a config
without ``keypoints`` means and the schema of Google's released files; others come from
``configs/keypoints/<name>.yaml`` (``KeypointSchema.from_config``), from a COCO file's category
(``from_coco_file``) or from a checkpoint's ``movenet.json`` (``from_dict``).
"""

import dataclasses
import json
import os

import numpy as np

from movenet_train.config import CONFIG_DIR, ConfigError, check_keys
from movenet_train.errors import UserError

LEFT, RIGHT, CENTRE = "left", "right", "center"


class KeypointSchemaError(UserError):
    pass


def _pairs(value):
    return tuple(tuple(str(n) for n in pair) for pair in (value or ()))


@dataclasses.dataclass(frozen=True)
class KeypointSchema:
    """Joint names in output order, flip pairs ``(left, right)`` and skeleton edges by name, OKS sigmas, torso.

    ``torso`` lists the upper joints, then as many lower ones (COCO: the shoulders, then the hips): the
    orientation slices measure the body's "up" from the lower joints' midpoint to the upper ones', and the video
    tracker centres its crop on the lower ones.

    ``source`` (the file or key the schema came from) only goes into error messages.
    """

    names: tuple
    flip_pairs: tuple = ()
    skeleton: tuple = ()
    sigmas: tuple = ()
    torso: tuple = ()
    name: str = "custom"
    source: str = dataclasses.field(default="keypoints", compare=False, repr=False)

    def __post_init__(self):
        set_ = lambda key, value: object.__setattr__(self, key, value)  # noqa: E731 (frozen dataclass)
        set_("names", tuple(str(n) for n in self.names))
        set_("flip_pairs", _pairs(self.flip_pairs))
        set_("skeleton", _pairs(self.skeleton))
        # Rounded so that a YAML 0.026 and pycocotools' 0.26 / 10 are the same schema.
        set_("sigmas", tuple(round(float(s), 9) for s in (self.sigmas or ())))
        set_("torso", tuple(str(n) for n in (self.torso or ())))
        self._validate()

    def _fail(self, key, message):
        raise KeypointSchemaError(f"{self.source}: keypoints.{key}: {message}")

    def _validate(self):
        if not self.names:
            self._fail("names", "is empty: a schema needs at least one joint")
        seen = set()
        for i, n in enumerate(self.names):
            if not n:
                self._fail(f"names[{i}]", "is empty")
            if n in seen:
                self._fail(f"names[{i}]", f"duplicate joint name {n!r}")
            seen.add(n)
        flipped = set()
        for key, pairs in (("flip_pairs", self.flip_pairs), ("skeleton", self.skeleton)):
            for i, pair in enumerate(pairs):
                if len(pair) != 2:
                    self._fail(f"{key}[{i}]", f"expected a pair of joint names, got {list(pair)}")
                for n in pair:
                    if n not in seen:
                        self._fail(f"{key}[{i}]", f"{n!r} is not one of keypoints.names {list(self.names)}")
                if pair[0] == pair[1]:
                    self._fail(f"{key}[{i}]", f"pairs a joint with itself ({pair[0]!r})")
                if key == "flip_pairs":
                    for n in pair:
                        if n in flipped:
                            self._fail(f"{key}[{i}]", f"{n!r} is in more than one flip pair")
                        flipped.add(n)
        if len(self.sigmas) != len(self.names):
            self._fail("sigmas", f"expected {len(self.names)} values (one per joint of keypoints.names), "
                       f"got {len(self.sigmas)}")
        if not all(np.isfinite(s) and s > 0 for s in self.sigmas):
            self._fail("sigmas", f"OKS sigmas must be positive numbers, got {list(self.sigmas)}")
        for i, n in enumerate(self.torso):
            if n not in seen:
                self._fail(f"torso[{i}]", f"{n!r} is not one of keypoints.names {list(self.names)}")

    # -- derived tables ------------------------------------------------------------------------------------

    @property
    def num_keypoints(self):
        return len(self.names)

    @property
    def index(self):
        return {n: i for i, n in enumerate(self.names)}

    @property
    def flip_permutation(self):
        """Index permutation of a horizontal flip: joint ``i`` of the flipped image is joint ``perm[i]``."""
        perm = list(range(self.num_keypoints))
        index = self.index
        for a, b in self.flip_pairs:
            perm[index[a]], perm[index[b]] = index[b], index[a]
        return tuple(perm)

    @property
    def skeleton_indices(self):
        index = self.index
        return tuple((index[a], index[b]) for a, b in self.skeleton)

    @property
    def oks_sigmas(self):
        return np.asarray(self.sigmas, np.float64)

    @property
    def torso_indices(self):
        index = self.index
        return tuple(index[n] for n in self.torso)

    @property
    def torso_axis(self):
        """``(upper indices, lower indices)`` of the torso (COCO: shoulders, hips); None when ``torso`` is empty
        or of odd length, which gives no up direction."""
        torso = self.torso_indices
        if not torso or len(torso) % 2:
            return None
        half = len(torso) // 2
        return torso[:half], torso[half:]

    def side(self, i):
        """``left`` / ``right`` for the first / second joint of a flip pair, ``center`` otherwise."""
        name = self.names[i]
        for a, b in self.flip_pairs:
            if name == a:
                return LEFT
            if name == b:
                return RIGHT
        return CENTRE

    # -- (de)serialisation ---------------------------------------------------------------------------------

    def to_dict(self):
        return {"name": self.name, "names": list(self.names), "flip_pairs": [list(p) for p in self.flip_pairs],
                "skeleton": [list(p) for p in self.skeleton], "sigmas": list(self.sigmas), "torso": list(self.torso)}

    @classmethod
    def from_dict(cls, values, source="keypoints"):
        values = {k: v for k, v in dict(values).items() if k != "source"}
        try:
            check_keys(values, ("name", "names", "flip_pairs", "skeleton", "sigmas", "torso"), "keypoints")
        except ConfigError as err:
            raise KeypointSchemaError(f"{source}: {err}") from None
        if "names" not in values or values["names"] is None:
            raise KeypointSchemaError(f"{source}: keypoints.names: missing (the joint names, in output order)")
        names = [str(n) for n in values["names"]]
        flip_pairs = values.get("flip_pairs")
        if flip_pairs is None:
            flip_pairs = infer_flip_pairs(names)
        sigmas = values.get("sigmas")
        if isinstance(sigmas, dict):
            missing = [n for n in names if n not in sigmas]
            if missing:
                raise KeypointSchemaError(f"{source}: keypoints.sigmas: no sigma for {missing}")
            sigmas = [sigmas[n] for n in names]
        elif sigmas is None:
            sigmas = default_sigmas(names, source)
        return cls(names=tuple(names), flip_pairs=flip_pairs, skeleton=values.get("skeleton") or (), sigmas=sigmas,
                   torso=values.get("torso") or (), name=str(values.get("name") or "custom"), source=source)

    @classmethod
    def from_config(cls, cfg, source=None):
        """From the ``keypoints`` config group; ``from_coco: PATH`` reads names and skeleton from a COCO file."""
        try:
            from omegaconf import OmegaConf

            values = OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else dict(cfg)
        except ImportError:  # pragma: no cover - omegaconf is a dependency
            values = dict(cfg)
        source = source or _config_source(values)
        from_coco = "from_coco" in values
        coco_file = values.pop("from_coco", None)
        if coco_file:
            return from_coco_file(coco_file, overrides=values, source=source)
        if from_coco and values.get("names") is None:
            raise KeypointSchemaError(f"{source}: keypoints.from_coco: missing: the COCO annotation file whose "
                                      "categories[].keypoints name the joints")
        return cls.from_dict(values, source)


def _config_source(values):
    """``configs/keypoints/<choice>.yaml`` when Hydra knows the group's choice, else the schema's name."""
    try:
        from hydra.core.hydra_config import HydraConfig

        choice = HydraConfig.get().runtime.choices.get("keypoints")
        if choice:
            return f"configs/keypoints/{choice}.yaml"
    except Exception:  # noqa: BLE001 - no Hydra run (tests composing configs, library use)
        pass
    return f"keypoint schema {values.get('name') or 'custom'!r} (configs/keypoints)"


def infer_flip_pairs(names):
    """``left_X``/``right_X`` (and ``X_left``/``X_right``) pairs of ``names``, left first."""
    present = set(names)
    pairs = []
    for n in names:
        for a, b in (("left_", "right_"), ("l_", "r_")):
            if n.startswith(a) and b + n[len(a):] in present:
                pairs.append((n, b + n[len(a):]))
        if n.endswith("_left") and n[: -len("_left")] + "_right" in present:
            pairs.append((n, n[: -len("_left")] + "_right"))
    return tuple(pairs)


def default_sigmas(names, source="keypoints"):
    """COCO's OKS sigmas for joints named as in COCO; any other joint needs ``keypoints.sigmas``."""
    missing = [n for n in names if n not in _COCO_SIGMAS]
    if missing:
        raise KeypointSchemaError(
            f"{source}: keypoints.sigmas: not given, and {missing} are not COCO joints (COCO's sigmas are the default "
            "for those only); give one OKS sigma per joint (a list, or a mapping name -> sigma)")
    return [_COCO_SIGMAS[n] for n in names]


def normalise_name(name):
    import re

    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def from_coco_category(category, source, overrides=None):
    """Schema of a COCO category with ``keypoints`` (names) and ``skeleton`` (1-based index pairs)."""
    overrides = {k: v for k, v in dict(overrides or {}).items() if v is not None}
    names = [normalise_name(n) for n in category.get("keypoints") or []]
    if not names:
        raise KeypointSchemaError(f"{source}: categories[].keypoints: the category has no keypoint names")
    if overrides.get("names") is not None and [str(n) for n in overrides["names"]] != names:
        raise KeypointSchemaError(f"{source}: keypoints.names {list(overrides['names'])} differ from the file's "
                                  f"categories[].keypoints {names}")
    skeleton = []
    for i, edge in enumerate(category.get("skeleton") or []):
        if not (isinstance(edge, (list, tuple)) and len(edge) == 2
                and all(isinstance(v, int) and 1 <= v <= len(names) for v in edge)):
            raise KeypointSchemaError(f"{source}: categories[].skeleton[{i}]: expected two 1-based keypoint indices "
                                      f"(1..{len(names)}), got {edge!r}")
        skeleton.append((names[edge[0] - 1], names[edge[1] - 1]))
    values = {"name": overrides.get("name") or category.get("name") or "custom", "names": names,
              "skeleton": overrides.get("skeleton") or skeleton, "flip_pairs": overrides.get("flip_pairs"),
              "sigmas": overrides.get("sigmas"), "torso": overrides.get("torso")}
    return KeypointSchema.from_dict(values, source)


def from_coco_file(path, overrides=None, source=None):
    """Schema of the keypoint category of a COCO annotation file (the one named ``person`` if several)."""
    path = str(path)
    source = source or path
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{source}: keypoints.from_coco: {path} does not exist") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise KeypointSchemaError(f"{source}: keypoints.from_coco: {path} is not valid JSON: {err}") from err
    categories = [c for c in data.get("categories", []) if isinstance(c, dict) and c.get("keypoints")]
    if len(categories) > 1:
        categories = [c for c in categories if normalise_name(c.get("name")) == "person"] or categories[:1]
    if not categories:
        raise KeypointSchemaError(f"{path}: 'categories': no category has 'keypoints'")
    return from_coco_category(categories[0], f"{path} (categories[].keypoints)", overrides)


def load_schema(path):
    """A schema from a YAML/JSON file of the ``configs/keypoints`` form, or a COCO annotation file."""
    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"keypoint schema file {path} does not exist")
    if path.endswith(".json"):
        try:
            with open(path) as f:
                data = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise KeypointSchemaError(f"keypoint schema file {path} is not valid JSON: {err}") from err
        if "categories" in data:
            return from_coco_file(path)
        return KeypointSchema.from_dict(data, path)
    from omegaconf import OmegaConf

    return KeypointSchema.from_config(OmegaConf.load(path), source=path)


def resolve(schema):
    """``None`` (no ``keypoints`` config) -> ``DEFAULT_SCHEMA``; a dict/config -> its schema; a schema -> itself."""
    if schema is None:
        return DEFAULT_SCHEMA
    if isinstance(schema, KeypointSchema):
        return schema
    return KeypointSchema.from_config(schema)


# ---------------------------------------------------------------------------------------------------------
# COCO-17, the released models' schema: its one home is configs/keypoints/coco17.yaml (tests check it against
# pycocotools' sigmas and the COCO files' category).

def _load_coco_17():
    from omegaconf import OmegaConf

    return KeypointSchema.from_config(OmegaConf.load(os.path.join(CONFIG_DIR, "keypoints", "coco17.yaml")),
                                      source="configs/keypoints/coco17.yaml")


COCO_17 = _load_coco_17()
_COCO_SIGMAS = dict(zip(COCO_17.names, COCO_17.sigmas))  # COCO's sigmas, the default for COCO-named joints

# The config default (configs/keypoints/coco17.yaml) and the schema of Google's released files, which carry none.
DEFAULT_SCHEMA = COCO_17
