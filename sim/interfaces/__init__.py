"""How people use the model: the command line, the notebook class ``Sim``, plots and the
seminar dashboard."""
