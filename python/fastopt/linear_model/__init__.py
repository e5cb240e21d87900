"""Regularized linear and logistic regression on dense and sparse data."""
