"""A module no cell imports."""

VALUE = 1
