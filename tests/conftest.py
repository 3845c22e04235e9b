import os

from hypothesis import settings

# CI runs more examples; a developer's run stays quick.
settings.register_profile("ci", max_examples=300, deadline=None)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
