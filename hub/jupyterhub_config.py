"""JupyterHub's configuration for the course's class hub (``make hub``; see hub/course_hub.py).

Read by ``jupyterhub -f hub/jupyterhub_config.py``. Every site-specific value comes from
an environment variable that ``hub/course_hub.py`` sets after checking it, so the same
file serves ``make hub``, the tests (tests/test_hub.py) and a real class:

==========================  =================================  ==========================
variable                    meaning                            default
==========================  =================================  ==========================
DOTLAB_HUB_IP               address the hub listens on         127.0.0.1
DOTLAB_HUB_PORT             the hub's public port              8000
DOTLAB_HUB_API_PORT         the hub's own API (proxy -> hub)   8081
DOTLAB_PROXY_API_PORT       configurable-http-proxy's API      8001
DOTLAB_HUB_STATE            hub database, cookie secret        /srv/dotlab-hub
DOTLAB_HUB_INSTRUCTOR       the instructor's Unix account      instructor
DOTLAB_HUB_LEARNERS         file of learner names, one a line  hub/learners.txt
DOTLAB_EXCHANGE_ROOT        nbgrader's exchange                /srv/nbgrader/exchange
==========================  =================================  ==========================
"""

import os
import sys
from pathlib import Path

HUB_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(HUB_DIR))
import course_hub  # noqa: E402 - the checked settings, shared with the setup command

settings = course_hub.Settings.from_environment()
c = get_config()  # noqa: F821 - injected by JupyterHub when it reads this file

c.JupyterHub.ip = settings.ip
c.JupyterHub.port = settings.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings.api_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
# The proxy is the exact version package.json pins (npm ci puts it in node_modules/).
c.ConfigurableHTTPProxy.command = [str(course_hub.CHP)]
c.ConfigurableHTTPProxy.pid_file = str(settings.state / "private" / "proxy.pid")
# The hub's database and cookie secret, in a folder only root can read (course_hub.py).
c.JupyterHub.db_url = f"sqlite:///{settings.state / 'private' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(settings.state / "private" / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(settings.state / "private" / "jupyterhub.pid")
# Stopping the hub stops the proxy and every learner's server: nothing is left running.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# PAM, JupyterHub's default: learners log in with their Unix account's password, the
# same accounts that own their homes and their files in nbgrader's exchange, so the
# exchange's ownership checks mean something. NativeAuthenticator (self sign-up, its
# own password store) would need a second identity mapped onto the Unix one. For a
# university login, replace this with oauthenticator's GenericOAuthenticator (or
# LTI13Authenticator from a learning platform) and keep LocalProcessSpawner: each
# OAuth username must still be an account that hub/course_hub.py created.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(settings.learners) | {settings.instructor}
# The instructor runs the class from the hub's admin page (who is there; start and stop
# learners' servers) but cannot open a learner's server, which JupyterHub's admin role
# allows (access:servers): a learner controls what their own server sends, and on a hub
# that serves everyone from one address such a page, opened by the instructor, could act
# in the instructor's server (JupyterHub's "Mitigating same-origin deployments"; the
# formgrader's framing by its own origin, hub/formgrader_frame.py, relies on this too).
c.JupyterHub.load_roles = [{
    "name": "instructor",
    "description": "Sees the class and starts or stops its servers; cannot open them",
    "scopes": ["admin-ui", "list:users", "read:users", "admin:servers", "read:hub"],
    "users": [settings.instructor],
}]
# Accounts are created by course_hub.py from the learner file, never by a login.
c.LocalAuthenticator.create_system_users = False

# Each user's server runs as their own Unix account, in their own home, from the
# course's environment: the course's package and nbgrader's extensions are installed
# there, so every learner's JupyterLab has the Assignments panel.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60


def _config_dir(spawner):
    """The nbgrader/Jupyter settings for this user's server: the instructor's or the learners'."""
    who = "instructor" if spawner.user.name == settings.instructor else "learner"
    return str(settings.state / "jupyter" / who)


c.Spawner.environment = {
    # Extra Jupyter config directories, read before the user's own: nbgrader's exchange
    # root and the course id, and (for learners) the instructor-only extensions off.
    "JUPYTER_CONFIG_PATH": _config_dir,
    "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
}
