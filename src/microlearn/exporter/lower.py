"""Which lowering turns a fitted estimator into a CModel: float32 (exact) per model family, or the
int16/int8 variants of quant.py."""
from __future__ import annotations

from microlearn.core.c_format import c_identifier

from .linear import LINEAR_CLASSIFIERS, lower_linear
from .model import CModel
from .nb import lower_gnb
from .prep import Prescale, UnsupportedModel, split_pipeline
from .quant import lower_quantized
from .svm import from_sklearn, from_smo, lower_svm
from .tree import lower_trees

SUPPORTED = (
    "SVC, NuSVC (kernel linear/rbf/poly/sigmoid), microlearn.SMOClassifier, LinearSVC, LogisticRegression, "
    "SGDClassifier, Perceptron, RidgeClassifier, DecisionTreeClassifier, RandomForestClassifier, "
    "ExtraTreesClassifier, GaussianNB, and Pipeline(StandardScaler|MinMaxScaler|MaxAbsScaler..., <one of these>)"
)
DTYPES = ("float32", "int16", "int8")


def lower(estimator, name="model", dtype="float32", calib_X=None, **opts) -> CModel:
    """Estimator -> CModel (tables + C bodies + Python mirror)."""
    c_identifier(name, "model name")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
    pre, final = split_pipeline(estimator)
    n_features = getattr(estimator, "n_features_in_", None) or getattr(final, "n_features_in_", None)
    if n_features is None and hasattr(final, "support_vectors_"):
        n_features = final.support_vectors_.shape[1]
    prescale = Prescale(pre, n_features)
    if dtype != "float32":
        return lower_quantized(estimator, final, prescale, name, dtype, calib_X, fallback=lower_final, **opts)
    return lower_final(final, prescale, name, **opts)


def lower_final(final, prescale, name, **opts) -> CModel:
    cls = type(final).__name__
    mod = type(final).__module__
    if not hasattr(final, "classes_"):
        if cls in _ALL_NAMES:
            raise UnsupportedModel(f"{cls} is not fitted")
        raise UnsupportedModel(f"cannot export {cls}: supported are {SUPPORTED}")
    if cls == "SMOClassifier" and mod.startswith("microlearn"):
        return lower_svm(from_smo(final), name, prescale, opts)
    if cls in ("SVC", "NuSVC") and mod.startswith("sklearn"):
        return lower_svm(from_sklearn(final), name, prescale, opts)
    if mod.startswith("sklearn"):
        if cls in LINEAR_CLASSIFIERS:
            return lower_linear(final, name, prescale, opts)
        if cls in ("DecisionTreeClassifier", "ExtraTreeClassifier", "RandomForestClassifier",
                   "ExtraTreesClassifier"):
            return lower_trees(final, name, prescale, opts)
        if cls == "GaussianNB":
            return lower_gnb(final, name, prescale, opts)
    raise UnsupportedModel(f"cannot export {cls}: supported are {SUPPORTED}")


_ALL_NAMES = ("SVC", "NuSVC", "SMOClassifier", "LinearSVC", "LogisticRegression", "SGDClassifier", "Perceptron",
              "RidgeClassifier", "DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier",
              "GaussianNB")
