"""speechgen: draft Chinese meeting speeches (讲话稿) from a library of past ones."""

__version__ = "0.1.0"
