"""Linear estimators: epsilon-SVR by dual coordinate descent, elastic net by coordinate descent."""
