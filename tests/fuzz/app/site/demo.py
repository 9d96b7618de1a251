# The module of the distribution demo, installed in the seeds' venv.
VALUE = "distribution"
