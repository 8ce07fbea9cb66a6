"""Judgement: the statistics of a verdict, the confirmation policy, change points, history."""
