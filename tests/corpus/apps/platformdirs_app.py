"""platformdirs: the per-user and site directories of an application,
for a fixed home and XDG environment."""
import os

os.environ["HOME"] = "/home/corpus"
for var in list(os.environ):
    if var.startswith("XDG_"):
        del os.environ[var]
os.environ["XDG_CONFIG_HOME"] = "/home/corpus/.config-custom"

import platformdirs  # noqa: E402
from platformdirs import PlatformDirs  # noqa: E402

d = PlatformDirs("KilnApp", "KilnOrg", version="1.2", ensure_exists=False)
for attr in ("user_data_dir", "user_config_dir", "user_cache_dir",
             "user_state_dir", "user_log_dir", "site_data_dir",
             "site_config_dir", "user_runtime_dir"):
    value = getattr(d, attr)
    print(attr, value.replace(f"/run/user/{os.getuid()}", "/run/user/UID"))
print(platformdirs.user_documents_dir(), platformdirs.user_downloads_dir())
print(type(platformdirs.PlatformDirs("x")).__name__,
      platformdirs.user_cache_path("x").name)
print(platformdirs.__version__)
