"""stratopt: equal-weight portfolio search over large strategy P&L matrices."""

__version__ = "0.1.0"
