"""Pure renderers over one LintResult."""
