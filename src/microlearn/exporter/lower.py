"""Which lowering turns a fitted estimator into a CModel: float32 (exact) per model family, or the
int16/int8 variants of quant.py."""
from __future__ import annotations

from microlearn.core.c_format import c_identifier

from .ensemble import (BOOSTED_CLASSIFIERS, BOOSTED_REGRESSORS, TREE_REGRESSORS, lower_gb_classifier,
                       lower_gb_regressor, lower_tree_regressor)
from .linear import LINEAR_CLASSIFIERS, lower_linear
from .mlp import MLP_MODELS, lower_mlp
from .model import CModel
from .nb import lower_gnb
from .prep import Prescale, UnsupportedModel, split_pipeline
from .quant import lower_quantized
from .regress import KERNEL_REGRESSORS, LINEAR_REGRESSORS, lower_linear_regressor, lower_svr
from .svm import from_sklearn, from_smo, lower_svm
from .tree import lower_trees

SUPPORTED = (
    "SVC, NuSVC (kernel linear/rbf/poly/sigmoid), microlearn.SMOClassifier, LinearSVC, LogisticRegression, "
    "SGDClassifier, Perceptron, RidgeClassifier, DecisionTreeClassifier, RandomForestClassifier, "
    "ExtraTreesClassifier, GradientBoostingClassifier, HistGradientBoostingClassifier, GaussianNB; regressors: "
    "LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, LinearSVR (and other plain linear regressors), "
    "SVR, NuSVR, DecisionTreeRegressor, RandomForestRegressor, ExtraTreesRegressor, GradientBoostingRegressor, "
    "HistGradientBoostingRegressor; MLPClassifier, MLPRegressor (float32 and int8); and Pipeline(StandardScaler|MinMaxScaler|MaxAbsScaler..., <one of these>)"
)

# SVC(probability=True): scikit-learn's predict_proba is libsvm's Platt scaling, and for more than two
# classes an iterative pairwise coupling; the export has no predict_proba for it (see docs/export.md).
PROBABILITY_REFUSED = ("{cls}(probability=True): predict_proba (libsvm's Platt scaling and pairwise coupling) "
                       "is not exported; export the model fitted with probability=False and use "
                       "NAME_decision_function (its decision_function) instead")
DTYPES = ("float32", "int16", "int8")
FLOAT32_ONLY = KERNEL_REGRESSORS + ("HistGradientBoostingRegressor",) + BOOSTED_CLASSIFIERS


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
    cls = type(final).__name__
    # scikit-learn 1.9 deprecates the parameter: its default is then the string 'deprecated' (truthy)
    if cls in ("SVC", "NuSVC") and getattr(final, "probability", False) is True:
        raise UnsupportedModel(PROBABILITY_REFUSED.format(cls=cls))
    if cls in MLP_MODELS and type(final).__module__.startswith("sklearn"):
        return lower_mlp(final, prescale, name, dtype, calib_X, **opts)
    if dtype != "float32" and cls in FLOAT32_ONLY:
        raise UnsupportedModel(f"{cls}: only dtype='float32' (quantized regressors: linear models, trees, forests "
                               "and GradientBoostingRegressor; none yet for kernel regressors, histogram gradient "
                               "boosting and boosted classifiers)")
    if dtype != "float32":
        return lower_quantized(estimator, final, prescale, name, dtype, calib_X, fallback=lower_final, **opts)
    return lower_final(final, prescale, name, **opts)


def lower_final(final, prescale, name, **opts) -> CModel:
    cls = type(final).__name__
    mod = type(final).__module__
    if mod.startswith("sklearn") and not hasattr(final, "classes_"):
        if cls in LINEAR_REGRESSORS and hasattr(final, "coef_"):
            return lower_linear_regressor(final, name, prescale, opts)
        if cls in KERNEL_REGRESSORS and hasattr(final, "support_vectors_"):
            return lower_svr(final, name, prescale, opts)
        if cls in TREE_REGRESSORS and (hasattr(final, "tree_") or hasattr(final, "estimators_")):
            return lower_tree_regressor(final, name, prescale, opts)
        if cls in BOOSTED_REGRESSORS and (hasattr(final, "estimators_") or hasattr(final, "_predictors")):
            return lower_gb_regressor(final, name, prescale, opts)
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
        if cls in BOOSTED_CLASSIFIERS:
            return lower_gb_classifier(final, name, prescale, opts)
    raise UnsupportedModel(f"cannot export {cls}: supported are {SUPPORTED}")


_ALL_NAMES = ("SVC", "NuSVC", "SMOClassifier", "LinearSVC", "LogisticRegression", "SGDClassifier", "Perceptron",
              "RidgeClassifier", "DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier",
              "GaussianNB", "GradientBoostingClassifier", "HistGradientBoostingClassifier") + \
    LINEAR_REGRESSORS + KERNEL_REGRESSORS + TREE_REGRESSORS + BOOSTED_REGRESSORS
