"""Which lowering turns a fitted estimator into a CModel: float32 (exact) per model family, or the
int16/int8 variants of quant.py."""
from __future__ import annotations

import numpy as np

from microlearn.core.c_format import c_identifier

from .ensemble import (BOOSTED_CLASSIFIERS, BOOSTED_REGRESSORS, TREE_REGRESSORS, lower_gb_classifier,
                       lower_gb_regressor, lower_tree_regressor)
from .anomaly import ANOMALY_MODELS, lower_anomaly
from .knn import KNN_MODELS, lower_knn
from .linear import LINEAR_CLASSIFIERS, build_linear, linear_params, lower_linear
from .mlp import MLP_MODELS, lower_mlp
from .model import CModel
from .nb import lower_gnb
from .prep import (Prescale, Projection, UnsupportedModel, has_projection, pipeline_affine, split_pipeline,
                   wrap_projection)
from .quant import lower_quantized
from .regress import KERNEL_REGRESSORS, LINEAR_REGRESSORS, build_linear_regressor, lower_linear_regressor, lower_svr
from .svm import from_sklearn, from_smo, lower_svm
from .tree import lower_trees

SUPPORTED = (
    "SVC, NuSVC (kernel linear/rbf/poly/sigmoid), microlearn.SMOClassifier, LinearSVC, LogisticRegression, "
    "SGDClassifier, Perceptron, RidgeClassifier, DecisionTreeClassifier, RandomForestClassifier, "
    "ExtraTreesClassifier, GradientBoostingClassifier, HistGradientBoostingClassifier, GaussianNB; regressors: "
    "LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, LinearSVR (and other plain linear regressors), "
    "SVR, NuSVR, DecisionTreeRegressor, RandomForestRegressor, ExtraTreesRegressor, GradientBoostingRegressor, "
    "HistGradientBoostingRegressor, KNeighborsRegressor; MLPClassifier, MLPRegressor (float32 and int8); "
    "KNeighborsClassifier (euclidean/manhattan/minkowski p=1,2); anomaly detectors: IsolationForest, "
    "EllipticEnvelope; and Pipeline(StandardScaler|MinMaxScaler|MaxAbsScaler|PCA..., <one of these>)"
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
    if cls in KNN_MODELS + ANOMALY_MODELS or has_projection(pre):
        return lower_projected(pre, final, n_features, name, dtype, **opts)
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


def lower_projected(pre, final, n_features, name, dtype, **opts) -> CModel:
    """kNN, anomaly detectors, and any model behind PCA: the Pipeline's scalers and PCA become one float32
    projection (prep.Projection), folded into the weights of linear models."""
    cls = type(final).__name__
    mod = type(final).__module__
    proj = Projection(*pipeline_affine(pre, n_features)) if has_projection(pre) else None
    prescale = Prescale([] if proj else pre, proj.n_components if proj else n_features)
    if cls in KNN_MODELS and mod.startswith("sklearn"):
        return lower_knn(final, name, prescale, dtype, opts, proj=proj)
    if dtype != "float32":
        raise UnsupportedModel(f"{cls}" + (" behind PCA" if proj else "") + ": only dtype='float32' (int16/int8: "
                               "kNN, and the other families without PCA)")
    if cls in ANOMALY_MODELS and mod.startswith("sklearn"):
        return lower_anomaly(final, name, prescale, opts, proj=proj)
    if proj is None:
        return lower_final(final, prescale, name, **opts)
    if cls in MLP_MODELS and mod.startswith("sklearn"):
        return wrap_projection(lower_mlp(final, prescale, name, dtype, None, **opts), proj)
    linear = cls in LINEAR_CLASSIFIERS or cls in LINEAR_REGRESSORS
    if mod.startswith("sklearn") and linear and hasattr(final, "coef_"):
        A, b, _ = pipeline_affine(pre, n_features)
        note = f"{proj.text} folded into the weights."
        if cls in LINEAR_REGRESSORS:
            W = np.atleast_2d(np.asarray(final.coef_, dtype=np.float64))
            c = np.broadcast_to(np.asarray(final.intercept_, dtype=np.float64).reshape(-1), (W.shape[0],))
            return build_linear_regressor(name, f"{proj.text} -> sklearn {cls}", W @ A, W @ b + c, [note])
        kw = linear_params(final, prescale)
        W, c = kw.pop("W"), kw.pop("b")
        kw["notes"] = [note]
        return build_linear(name, f"{proj.text} -> {kw.pop('source')}", W @ A, W @ b + c, kw.pop("classes"), **kw)
    return wrap_projection(lower_final(final, prescale, name, **opts), proj)


_ALL_NAMES = ("SVC", "NuSVC", "SMOClassifier", "LinearSVC", "LogisticRegression", "SGDClassifier", "Perceptron",
              "RidgeClassifier", "DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier",
              "GaussianNB", "GradientBoostingClassifier", "HistGradientBoostingClassifier") + \
    LINEAR_REGRESSORS + KERNEL_REGRESSORS + TREE_REGRESSORS + BOOSTED_REGRESSORS
