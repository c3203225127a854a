# nbgrader's settings for the course in this folder (docs/classroom.md):
# source/autorec/ is the assignment with its solutions and hidden tests,
# release/autorec/ the student edition that `make assignment` makes.
c = get_config()  # noqa: F821 (nbgrader defines it)

# Autograding runs the trainings: a cell may take minutes, not the
# default 30 s.
c.Execute.timeout = 600
