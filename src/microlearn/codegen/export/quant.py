"""Quantized export (dtype='int16' / 'int8'). Not implemented yet: the float32 path is exact;
quantized tables (per-feature affine input quantization, integer accumulation) are planned."""


def lower_quantized(estimator, final, prescale, name, dtype, calib_X, **opts):
    raise NotImplementedError(f"dtype={dtype!r} export is not implemented yet; use dtype='float32' "
                              "(exact: agrees with scikit-learn on float32 inputs)")
