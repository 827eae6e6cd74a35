"""The class hub on Kubernetes (hub/z2jh/), checked without a cluster, helm or a network.

hub/z2jh/values.yaml is for Zero to JupyterHub's ``jupyterhub`` Helm chart, version
``CHART``. Helm would check it against the chart's ``values.schema.yaml``; we cannot run
helm here, so ``CHART_KEYS`` lists every key path our file uses, with the type the chart
declares for it, as read in that file of the chart's repository at ``CHART_COMMIT``
(jupyterhub/zero-to-jupyterhub-k8s, ``jupyterhub/values.schema.yaml``). ``problems``
then checks what helm and the hub would refuse or silently ignore: a key the chart does
not have (the schema forbids extra keys at these levels), a wrong type, a memory limit
KubeSpawner cannot read, a quantity Kubernetes cannot read, a Python snippet that does
not compile or does not configure the class, an exchange not mounted in every server.
Every check is shown to fail on a plausible mistake by a broken copy of the file.
"""

from __future__ import annotations

import copy
import doctest
import re
import sys
import types
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from traitlets.config import Config, LazyConfigValue

ROOT = Path(__file__).resolve().parents[1]
Z2JH = ROOT / "hub" / "z2jh"
sys.path.insert(0, str(Z2JH))
import sizing  # noqa: E402
import start_server  # noqa: E402
import write_jupyter_config  # noqa: E402
from test_prose_numbers import typed_numbers  # noqa: E402

CHART = "4.4.0"
CHART_COMMIT = "5c5f5df751588a68a7781ead01d0f62e88e2e72f"  # the chart repository's tag 4.4.0
# The JupyterHub the chart's hub image runs: images/hub/requirements.txt at that tag
# pins jupyterhub==5.5.0 (and Chart.yaml's appVersion is "5.5.0").
CHART_JUPYTERHUB = "5.5.0"

NUMBER = "number"  # int or float, never a bool (the schema's "number")
MAPPING = "mapping"
# Key path -> the types the chart's schema allows there. Written by us from the schema
# (jupyterhub/values.schema.yaml at CHART_COMMIT); only the paths this course uses.
CHART_KEYS: dict[str, tuple] = {
    "hub": (MAPPING,),
    "hub.config": (MAPPING,),  # keys: Configurable class names, see CONFIG_SECTION
    "hub.extraConfig": (MAPPING,),  # name -> Python source, run in key order
    "hub.db": (MAPPING,),
    "hub.db.pvc": (MAPPING,),
    "hub.db.pvc.storage": (str,),
    "custom": (MAPPING,),  # free-form: the chart passes it through untouched
    "singleuser": (MAPPING,),
    "singleuser.image": (MAPPING,),
    "singleuser.image.name": (str,),
    "singleuser.image.tag": (str,),
    "singleuser.cmd": (list, str, type(None)),
    "singleuser.defaultUrl": (str, type(None)),
    "singleuser.fsGid": (int, type(None)),
    "singleuser.memory": (MAPPING,),
    "singleuser.memory.guarantee": (NUMBER, str, type(None)),
    "singleuser.memory.limit": (NUMBER, str, type(None)),
    "singleuser.cpu": (MAPPING,),
    "singleuser.cpu.guarantee": (NUMBER, type(None)),
    "singleuser.cpu.limit": (NUMBER, type(None)),
    "singleuser.storage": (MAPPING,),
    "singleuser.storage.capacity": (str, type(None)),
    "singleuser.storage.extraVolumes": (MAPPING, list, type(None)),  # Kubernetes' own syntax inside
    "singleuser.storage.extraVolumeMounts": (MAPPING, list, type(None)),
    "singleuser.initContainers": (list,),  # Kubernetes container specs
    "cull": (MAPPING,),
    "cull.enabled": (bool,),
    "cull.timeout": (int, type(None)),
    "cull.every": (int, type(None)),
    "proxy": (MAPPING,),
    "proxy.https": (MAPPING,),
    "proxy.https.enabled": (bool, type(None)),
    "proxy.https.hosts": (list,),
    "proxy.https.letsencrypt": (MAPPING,),
    "proxy.https.letsencrypt.contactEmail": (str, type(None)),
}
# Below these paths the chart takes anything (its schema: additionalProperties: true, or
# Kubernetes' own syntax passed through), so only our own checks apply.
OPAQUE = ("custom", "hub.extraConfig", "singleuser.storage.extraVolumes",
          "singleuser.storage.extraVolumeMounts", "singleuser.initContainers")
# hub.config's keys must be traitlets class names, which start with a capital (the
# schema's patternProperties, and the chart's hub exits on any other).
CONFIG_SECTION = re.compile(r"[A-Z]\w*")

# Kubernetes' quantity syntax (k8s.io/apimachinery resource.Quantity): a decimal
# number, then a binary suffix, a decimal suffix or an exponent. Written here because
# no parser of it is installed (the kubernetes client is not a course dependency).
QUANTITY = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?")
SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
          "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), None: 1,
          "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


def kube_quantity(text) -> Decimal:
    """A Kubernetes quantity (``10Gi``, ``500m``, ``1e3``) as a number.

    >>> kube_quantity("10Gi") == 10 * 2**30, kube_quantity("500m"), kube_quantity("1e3") == 1000
    (True, Decimal('0.500'), True)
    """
    match = QUANTITY.fullmatch(str(text))
    if isinstance(text, bool) or match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (like 10Gi, 512Mi, 500m)")
    number, suffix = match.groups()
    if suffix and suffix[0] in "eE" and suffix not in SUFFIX:
        return Decimal(number) * Decimal(10) ** int(suffix[1:])
    return Decimal(number) * SUFFIX[suffix]


def load(name: str) -> dict:
    return yaml.safe_load((Z2JH / name).read_text())


def _type_ok(value, allowed: tuple) -> bool:
    for kind in allowed:
        if kind == MAPPING and isinstance(value, dict):
            return True
        if kind == NUMBER and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if isinstance(kind, type) and kind not in (int,) and isinstance(value, kind):
            return True
    return False


def key_problems(values: dict, path: str = "") -> list[str]:
    """Every key path of ``values`` the chart does not have, or holds the wrong type."""
    found = []
    for key, value in values.items():
        here = f"{path}.{key}" if path else key
        if path == "hub.config":
            if not CONFIG_SECTION.fullmatch(key) or not isinstance(value, dict):
                found.append(f"hub.config.{key}: a section must be a class name with a capital "
                             f"and hold a mapping (chart {CHART} stops the hub otherwise)")
            continue
        if here not in CHART_KEYS:
            found.append(f"{here}: not a key of the jupyterhub chart {CHART}")
            continue
        if not _type_ok(value, CHART_KEYS[here]):
            found.append(f"{here}: {value!r} is a {type(value).__name__}; chart {CHART} wants "
                         f"{' or '.join(getattr(k, '__name__', k) for k in CHART_KEYS[here])}")
            continue
        if isinstance(value, dict) and not here.startswith(OPAQUE):
            found += key_problems(value, here)
    return found


def quantity_problems(values: dict, pvc: dict) -> list[str]:
    """Memory as KubeSpawner reads it; sizes and container resources as Kubernetes does."""
    found = []
    single = values["singleuser"]
    try:
        guarantee, limit = (sizing.memory_bytes(single["memory"][k]) for k in ("guarantee", "limit"))
        if guarantee > limit:
            found.append(f"singleuser.memory: guarantee {single['memory']['guarantee']} "
                         f"is above the limit {single['memory']['limit']}")
    except (ValueError, KeyError) as error:
        found.append(f"singleuser.memory: {error}")
    cpu = single.get("cpu", {})
    if not (0 < cpu.get("guarantee", 0) <= cpu.get("limit", 0)):
        found.append(f"singleuser.cpu: want 0 < guarantee <= limit, got {cpu}")
    # KubeSpawner turns memory into bytes for the pod; written its way, it is also a
    # Kubernetes quantity (of powers of 1000 there), so both readings must accept it
    sizes = {f"singleuser.memory.{k}": v for k, v in single["memory"].items()}
    sizes |= {"hub.db.pvc.storage": values["hub"]["db"]["pvc"]["storage"],
              "singleuser.storage.capacity": single["storage"]["capacity"],
              "exchange-pvc.yaml storage": pvc["spec"]["resources"]["requests"]["storage"]}
    for init in single.get("initContainers", []):
        for kind, amounts in init.get("resources", {}).items():
            for resource, amount in amounts.items():
                sizes[f"initContainers {init.get('name')} {kind}.{resource}"] = amount
    for where, amount in sizes.items():
        try:
            kube_quantity(amount)
        except ValueError as error:
            found.append(f"{where}: {error}")
    return found


def exchange_problems(values: dict, pvc: dict) -> list[str]:
    """The exchange volume: a ReadWriteMany claim, mounted in every server at the root
    the servers' nbgrader settings name, made world-writable before each server starts."""
    found = []
    root = str(write_jupyter_config.EXCHANGE_ROOT)
    storage = values["singleuser"]["storage"]
    claim = pvc["metadata"]["name"]
    if "ReadWriteMany" not in pvc["spec"].get("accessModes", []):
        found.append(f"exchange-pvc.yaml: accessModes {pvc['spec'].get('accessModes')} lack "
                     f"ReadWriteMany: every learner's server mounts the exchange at once")
    volumes = storage.get("extraVolumes") or {}
    volumes = list(volumes.values()) if isinstance(volumes, dict) else volumes
    names = [v.get("name") for v in volumes if v.get("persistentVolumeClaim", {}).get("claimName") == claim]
    if not names:
        found.append(f"singleuser.storage.extraVolumes: no volume uses the claim {claim!r}")
    mounts = storage.get("extraVolumeMounts") or {}
    mounts = list(mounts.values()) if isinstance(mounts, dict) else mounts
    if not any(m.get("name") in names and m.get("mountPath") == root for m in mounts):
        found.append(f"singleuser.storage.extraVolumeMounts: the exchange volume {names} is not "
                     f"mounted at {root} in every server")
    if "profileList" in values["singleuser"]:
        found.append("singleuser.profileList: a profile may replace the volumes; check the "
                     "exchange is mounted in each, then teach this test how")
    init_ok = any(m.get("name") in names and m.get("mountPath") == root
                  and i.get("command") == ["chmod", "1777", root]
                  for i in values["singleuser"].get("initContainers", []) for m in i.get("volumeMounts", []))
    if not init_ok:
        found.append(f"singleuser.initContainers: none sets {root} on the exchange volume to mode 1777")
    return found


class StandInSpawner:
    """What the snippets read of KubeSpawner: the user's name."""

    def __init__(self, name):
        self.user = types.SimpleNamespace(name=name)


def run_extra_config(values: dict, chart_environment) -> Config:
    """Run hub.extraConfig as the chart's hub does: in key order, with ``c`` and
    ``get_config`` (z2jh.get_config: a dotted path into the values), after the chart
    has set ``c.KubeSpawner.environment`` from singleuser.extraEnv when given."""

    def get_config(key, default=None):
        value = values
        for level in key.split("."):
            if not isinstance(value, dict) or level not in value:
                return default
            value = value[level]
        return value

    c = Config()
    if chart_environment is not None:
        c.KubeSpawner.environment = chart_environment
    fake = types.ModuleType("nativeauthenticator")  # lives in the chart's hub image
    fake.__file__ = "/usr/local/lib/python3/site-packages/nativeauthenticator/__init__.py"
    saved = sys.modules.get("nativeauthenticator")
    sys.modules["nativeauthenticator"] = fake
    try:
        for key, source in sorted(values["hub"].get("extraConfig", {}).items()):
            code = compile(source, f"hub.extraConfig.{key}", "exec")
            exec(code, {"c": c, "get_config": get_config, "__name__": "jupyterhub_config"})
    finally:
        if saved is None:
            sys.modules.pop("nativeauthenticator")
        else:
            sys.modules["nativeauthenticator"] = saved
    return c


def config_problems(values: dict, chart_environment=None) -> list[str]:
    """What hub.extraConfig sets, on a stand-in ``c``: the class and each account's server."""
    try:
        c = run_extra_config(values, chart_environment)
    except Exception as error:  # a snippet that does not compile or run: the hub would not start
        return [f"hub.extraConfig: {type(error).__name__}: {error}"]
    found = []
    dotlab = values["custom"]["dotlab"]
    instructor, learners = dotlab["instructor"]["name"], dotlab["learners"]
    if c.Authenticator.get("allowed_users") != set(learners) | {instructor}:
        found.append(f"allowed_users is {c.Authenticator.get('allowed_users')}, not the list")
    if c.Authenticator.get("admin_users") != {instructor}:
        found.append(f"admin_users is {c.Authenticator.get('admin_users')}, not {{{instructor!r}}}")
    environment = c.KubeSpawner.get("environment", {})
    if isinstance(environment, LazyConfigValue):
        environment = environment.get_value({})
    everyone = {instructor: dotlab["instructor"]["uid"], **learners}
    for name, uid in everyone.items():
        spawner = StandInSpawner(name)
        for trait in ("uid", "gid"):
            got = c.KubeSpawner.get(trait)
            if not callable(got) or got(spawner) != uid:
                found.append(f"KubeSpawner.{trait} for {name} is not {uid}")
        role = "instructor" if name == instructor else "learner"
        path = environment.get("JUPYTER_CONFIG_PATH")
        if not callable(path) or path(spawner) != f"/etc/dotlab-hub/jupyter/{role}":
            found.append(f"JUPYTER_CONFIG_PATH for {name} is not the {role}s' settings")
        accounts = environment.get("DOTLAB_ACCOUNTS")
        want = everyone if name == instructor else {name: uid}
        if not callable(accounts) or start_server.parse_accounts(accounts(spawner)) != want:
            found.append(f"DOTLAB_ACCOUNTS for {name} is not {want}")
    if not any(p.endswith("nativeauthenticator/templates") for p in c.JupyterHub.get("template_paths", [])):
        found.append("JupyterHub.template_paths lacks NativeAuthenticator's sign-up pages")
    uids = list(everyone.values())
    if len(set(uids)) != len(uids) or min(uids) < 1000:
        found.append(f"custom.dotlab: uids {uids} must be distinct and at least 1000")
    return found


def problems(values: dict, pvc: dict) -> list[str]:
    found = key_problems(values)
    if found:  # the rest reads keys by name
        return found
    return (quantity_problems(values, pvc) + exchange_problems(values, pvc)
            + config_problems(values) + config_problems(values, chart_environment={}))


# --- the file as committed ------------------------------------------------------------


def test_the_values_file_is_what_the_chart_and_the_hub_expect():
    assert problems(load("values.yaml"), load("exchange-pvc.yaml")) == []


def test_authentication_is_set_where_the_chart_reads_it():
    config = load("values.yaml")["hub"]["config"]
    assert config["JupyterHub"]["authenticator_class"] == "nativeauthenticator.NativeAuthenticator"
    assert config["NativeAuthenticator"]["open_signup"] is False  # the instructor approves


def test_the_class_accounts_follow_the_class_hubs_rule():
    import course_hub

    dotlab = load("values.yaml")["custom"]["dotlab"]
    for name in [dotlab["instructor"]["name"], *dotlab["learners"]]:
        assert course_hub.NAME.fullmatch(name), name


def test_the_image_runs_the_hubs_jupyterhub_and_the_servers_settings(tmp_path):
    dockerfile = (Z2JH / "Dockerfile").read_text()
    values = load("values.yaml")
    single = values["singleuser"]
    assert f"ARG JUPYTERHUB_VERSION={CHART_JUPYTERHUB}\n" in dockerfile
    assert "-r requirements.txt" in dockerfile and "constraints.txt" in dockerfile
    assert "python hub/z2jh/write_jupyter_config.py /etc/dotlab-hub" in dockerfile
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, flags=re.M).group(1)
    assert yaml.safe_load(cmd) == single["cmd"]
    image = f"{single['image']['name']}:{single['image']['tag']}"
    assert [i["image"] for i in single["initContainers"]] == [image]
    # what the image's build step writes: the exchange at the mounted root for everyone,
    # the formgrader and the owner-checked collect for the instructor only
    written = write_jupyter_config.write(tmp_path)
    root = str(write_jupyter_config.EXCHANGE_ROOT)
    for role in ("instructor", "learner"):
        assert f"c.Exchange.root = {root!r}" in (written / role / "nbgrader_config.py").read_text()
    assert "OwnerCheckedCollect" in (written / "instructor" / "nbgrader_config.py").read_text()
    assert "OwnerCheckedCollect" not in (written / "learner" / "nbgrader_config.py").read_text()
    learner_server = yaml.safe_load((written / "learner" / "jupyter_server_config.json").read_text())
    assert learner_server["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False


def test_the_image_copies_only_what_the_dockerignore_keeps():
    ignored = (ROOT / ".dockerignore").read_text().split()
    copied = re.findall(r"^COPY (.+) \S+$", (Z2JH / "Dockerfile").read_text(), flags=re.M)
    for source in " ".join(copied).split():
        assert (ROOT / source).exists(), source
        assert source not in ignored, source
    assert ".venv" in ignored and "node_modules" in ignored


# --- each check fails on a plausible mistake --------------------------------------------


def _set(tree: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for key in parents:
        tree = tree[key]
    tree[last] = value


def _delete(tree: dict, path: str) -> None:
    *parents, last = path.split(".")
    for key in parents:
        tree = tree[key]
    del tree[last]


def _rename(tree: dict, path: str, new: str) -> None:
    *parents, last = path.split(".")
    for key in parents:
        tree = tree[key]
    tree[new] = tree.pop(last)


BROKEN = {
    "misspelt limit key": (lambda v, p: _rename(v, "singleuser.memory.limit", "limt"),
                           "singleuser.memory.limt: not a key"),
    "misspelt section": (lambda v, p: _rename(v, "singleuser.memory", "memmory"),
                         "singleuser.memmory: not a key"),
    "misspelt cull key": (lambda v, p: _rename(v, "cull.timeout", "timout"), "cull.timout: not a key"),
    "extraConfig in lower camel case": (lambda v, p: _rename(v, "hub.extraConfig", "extraconfig"),
                                        "hub.extraconfig: not a key"),
    "hub.config section not a class": (lambda v, p: _rename(v, "hub.config.NativeAuthenticator",
                                                            "nativeAuthenticator"),
                                       "hub.config.nativeAuthenticator: a section must be a class"),
    "limit in words": (lambda v, p: _set(v, "singleuser.memory.limit", "2 GB"), "'2 GB' is not a number"),
    "limit in Kubernetes units": (lambda v, p: _set(v, "singleuser.memory.limit", "2Gi"),
                                  "'2Gi' is not a number"),
    "guarantee above limit": (lambda v, p: _set(v, "singleuser.memory.guarantee", "4G"),
                              "is above the limit"),
    "cpu as a string": (lambda v, p: _set(v, "singleuser.cpu.limit", "500m"), "singleuser.cpu.limit: '500m'"),
    "cull switch as a string": (lambda v, p: _set(v, "cull.enabled", "true"), "cull.enabled: 'true'"),
    "volume size in words": (lambda v, p: _set(p, "spec.resources.requests.storage", "10 GB"),
                             "'10 GB' is not a Kubernetes quantity"),
    "home size in KubeSpawner units": (lambda v, p: _set(v, "singleuser.storage.capacity", "2G "),
                                       "'2G ' is not a Kubernetes quantity"),
    "exchange mount missing": (lambda v, p: _delete(v, "singleuser.storage.extraVolumeMounts.nbgrader-exchange"),
                               "is not mounted at /srv/nbgrader/exchange"),
    "exchange mounted elsewhere": (lambda v, p: _set(v, "singleuser.storage.extraVolumeMounts."
                                                        "nbgrader-exchange.mountPath", "/srv/exchange"),
                                   "is not mounted at /srv/nbgrader/exchange"),
    "claim name differs": (lambda v, p: _set(p, "metadata.name", "exchange"), "no volume uses the claim"),
    "exchange only for one reader": (lambda v, p: _set(p, "spec.accessModes", ["ReadWriteOnce"]),
                                     "lack ReadWriteMany"),
    "exchange root not opened": (lambda v, p: _set(v, "singleuser.initContainers", []),
                                 "none sets /srv/nbgrader/exchange"),
    "extraConfig does not compile": (lambda v, p: _set(v, "hub.extraConfig.dotlab",
                                                       v["hub"]["extraConfig"]["dotlab"].replace("):", ")")),
                                     "hub.extraConfig: SyntaxError"),
    "instructor not admin": (lambda v, p: _set(v, "hub.extraConfig.dotlab",
                                               v["hub"]["extraConfig"]["dotlab"].replace(
                                                   "admin_users = {instructor}", "admin_users = set()")),
                             "admin_users is set()"),
    "two learners on one uid": (lambda v, p: _set(v, "custom.dotlab.learners.alan", 10001),
                                "must be distinct"),
}


@pytest.mark.parametrize("mistake", BROKEN)
def test_each_plausible_mistake_is_caught(mistake):
    values, pvc = load("values.yaml"), load("exchange-pvc.yaml")
    break_it, expected = BROKEN[mistake]
    break_it(values, pvc)
    found = problems(values, pvc)
    assert any(expected in p for p in found), found


def test_broken_copies_leave_the_file_alone():
    before = load("values.yaml")
    values = copy.deepcopy(before)
    BROKEN["limit in words"][0](values, {})
    assert load("values.yaml") == before != values


def test_kube_quantity_reads_kubernetes_spellings_and_refuses_others():
    assert kube_quantity("512Mi") == 512 * 2**20
    assert kube_quantity("1.5G") == Decimal("1.5e9")
    assert kube_quantity("100m") == Decimal("0.1")
    assert kube_quantity("1E") == 10**18  # exa, not an exponent
    for wrong in ("2 GB", "2GB", "Gi", "1.2.3", "", True, "10gi"):
        with pytest.raises(ValueError, match="not a Kubernetes quantity"):
            kube_quantity(wrong)


# --- the server's start and the guide's sizing helpers ---------------------------------


def test_start_server_adds_each_named_uid_once(tmp_path):
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\njovyan:x:1000:100::/home/jovyan:/bin/bash\n")
    accounts = start_server.parse_accounts("instructor:10000,ada:10001")
    assert start_server.add_accounts(passwd, accounts) == [
        "instructor:x:10000:10000::/home/jovyan:/bin/bash", "ada:x:10001:10001::/home/jovyan:/bin/bash"]
    assert start_server.add_accounts(passwd, accounts) == []  # a restart adds nothing
    with pytest.raises(ValueError, match="uid 10001"):
        start_server.add_accounts(passwd, {"alan": 10001})  # one uid, two names
    with pytest.raises(ValueError, match="'root'"):
        start_server.add_accounts(passwd, {"root": 10005})
    for wrong in ("ada", "ada:12", "Ada:10001", "ada:10001,ada:10002"):
        with pytest.raises(ValueError, match="DOTLAB_ACCOUNTS"):
            start_server.parse_accounts(wrong)


@pytest.mark.parametrize("module", [sizing, start_server])
def test_the_examples_in_the_docstrings_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_memory_bytes_reads_kubespawners_units():
    from jupyterhub.traitlets import ByteSpecification

    # the same reading as JupyterHub's own trait (what KubeSpawner's mem_limit is)
    class Holder:
        pass

    trait = ByteSpecification()
    for spec in ("512M", "2G", "1.5G", "64K", 1000):
        assert sizing.memory_bytes(spec) == trait.validate(Holder(), spec)
    for wrong in ("2Gi", "2 GB", "2g", "", True, None):
        with pytest.raises(ValueError):
            sizing.memory_bytes(wrong)


def test_the_grading_figure_is_read_from_the_benchmarks(tmp_path):
    grading = sizing.grading_core_seconds()
    assert grading.core_seconds_per_learner == grading.seconds_per_learner * grading.cores > 0
    results = tmp_path / "results.json"
    results.write_text('{"when": "x", "machine": "y", "figures": []}')
    with pytest.raises(sizing.SizingError, match="grading figures are \\[\\]"):
        sizing.grading_core_seconds(results)


# --- the guide ------------------------------------------------------------------------

GUIDE = ROOT / "chapters" / "instructor_guide.md"


def _section(title: str) -> str:
    return GUIDE.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_guide_shows_the_install_without_running_it():
    section = _section("Beyond one machine")
    # bash blocks in the guide are commands its tests run; these need a cluster
    assert "```bash" not in section
    assert f"--version={CHART}" in section and "--values hub/z2jh/values.yaml" in section
    assert "hub/z2jh/exchange-pvc.yaml" in section and "hub/z2jh/Dockerfile" in section


@pytest.mark.parametrize("title", ["Sizing a class", "Beyond one machine"])
def test_the_guides_new_sections_type_no_result(title):
    # 30 and 200 are the worked example's class sizes, inputs set in its code cell
    typed = set(typed_numbers(_section(title))) - {"30", "200"}
    assert not typed, f"{title}: numbers typed by hand {typed}: glue them from code"
