"""CEL for custom rules: ValidatingAdmissionPolicy's expression language on the C++ evaluator."""
