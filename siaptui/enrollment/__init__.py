"""The rules of one worker's visit, as plain Python the TUI only shows.

`flow` holds the state of one worker, `protocol` the ten-finger rules, `capture` the scanner
loop, `training` the practice scenarios. Nothing here imports Textual.
"""
