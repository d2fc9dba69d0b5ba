"""A helper module beside the processor, as labs split their scripts."""


def load_config(path):
    settings = {}
    exec(open(path).read(), settings)
    return settings["GAIN"], settings["THRESHOLD"]
