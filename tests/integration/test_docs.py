"""The documentation that ships: the man pages render without a warning and
name every option --help lists, their example jobs pass `fleetrun check`,
every subcommand's --help has examples, and the bash completion offers
subcommands, options, option values and job names."""
import re
import subprocess

import pytest

import fr

DOC = fr.REPO / "runner" / "doc"
MAN1 = DOC / "fleetrun.1"
MAN5 = DOC / "fleetrun-jobs.5"
COMPLETION = DOC / "fleetrun.bash"
COMMANDS = ["run", "jobs", "check", "hosts", "report", "merge", "submit", "parse"]


def run(args, timeout=30, env=None, cwd=None):
    return subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, env=fr.clean_env(env), cwd=cwd)


# ---------------------------------------------------------------- man pages

@pytest.mark.parametrize("page", [MAN1, MAN5], ids=lambda p: p.name)
def test_man_page_renders_without_warnings(page):
    r = run(["groff", "-man", "-ww", "-z", str(page)])
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    r = run(["man", "--warnings", "-l", str(page)], env={"MANWIDTH": "80", "MAN_KEEP_FORMATTING": ""})
    assert r.returncode == 0, r.stderr.decode()
    assert r.stderr == b"", r.stderr.decode()
    text = r.stdout.decode()
    assert "NAME" in text and "SEE ALSO" in text, text[:500]
    # no line of the page is wider than the terminal asked for
    wide = [line for line in text.splitlines() if len(line) > 80]
    assert not wide, wide


def long_options(help_text):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", help_text))


def man_text(page):
    r = run(["man", "-l", str(page)], env={"MANWIDTH": "200"})
    assert r.returncode == 0, r.stderr.decode()
    # man may hyphenate and use typographic hyphens: undo both
    return r.stdout.decode().replace("\u2010", "-").replace("\u2011", "-")


def test_man_page_names_every_option(binaries):
    """Each long option a subcommand's --help lists is in fleetrun(1)."""
    text = man_text(MAN1)
    for cmd in COMMANDS:
        r = run([fr.FLEETRUN, cmd, "--help"])
        missing = sorted(o for o in long_options(r.stdout.decode()) if o not in text)
        assert not missing, "fleetrun.1 lacks %s of `%s --help`" % (missing, cmd)


def roff_examples(page):
    """The .nf/.fi blocks of a page that are job files, as plain text."""
    src = page.read_text()
    out = []
    for block in re.findall(r"^\.nf\n(.*?)^\.fi\n", src, flags=re.S | re.M):
        text = (block.replace("\\-", "-").replace("\\(aq", "'").replace("\\(dq", '"')
                .replace("\\e", "\\"))
        if text.startswith("description:"):
            out.append(text)
    return out


def test_man_page_jobs_check(binaries, tmp_path):
    examples = roff_examples(MAN5)
    assert len(examples) == 3, examples
    for i, text in enumerate(examples):
        job = fr.write_job(tmp_path, text, name="example%d" % i)
        r = run([fr.FLEETRUN, "check", job])
        assert r.returncode == 0, (text, r.stderr.decode())


# ---------------------------------------------------------------- --help

@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_of_every_command(binaries, cmd):
    r = run([fr.FLEETRUN, cmd, "--help"])
    assert r.returncode == 0 and r.stderr == b"", r
    text = r.stdout.decode()
    assert text.startswith("usage: fleetrun %s" % cmd), text
    assert re.search(r"^examples?:\n  fleetrun %s\b" % cmd, text, flags=re.M), text
    # short form too
    assert run([fr.FLEETRUN, cmd, "-h"]).stdout.decode() == text


def test_main_help_lists_every_command(binaries):
    r = run([fr.FLEETRUN, "--help"])
    assert r.returncode == 0, r
    text = r.stdout.decode()
    for cmd in COMMANDS:
        assert re.search(r"^  %s\b" % cmd, text, flags=re.M), (cmd, text)
    assert "examples:" in text and "man fleetrun" in text


# ---------------------------------------------------------------- bash completion

def complete(line, env=None, cwd="/"):
    """What the completion offers for a command line; the word being
    completed is the last one (an empty string after a trailing space).
    It runs in cwd (default /, where there is no ./jobs.d)."""
    words = line.split(" ")
    words[0] = fr.FLEETRUN
    script = (
        "source %s || exit 9\n"
        "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}\n"
        "_fleetrun || exit 8\n"
        "printf '%%s\\n' \"${COMPREPLY[@]}\"\n" % COMPLETION)
    r = run(["bash", "--norc", "--noprofile", "-c", script, "bash"] + words, env=env, cwd=cwd)
    assert r.returncode == 0, (line, r.returncode, r.stderr.decode())
    assert r.stderr == b"", r.stderr.decode()
    return [w for w in r.stdout.decode().split("\n") if w]


@pytest.fixture
def jobs_env(tmp_path):
    d = tmp_path / "jobs"
    d.mkdir()
    fr.write_job(d, "description: the first\nsteps:\n  - sleep: 0\n", name="alpha")
    fr.write_job(d, "description: the second\nsteps:\n  - sleep: 0\n", name="beta")
    fr.write_job(d, "description: the third\nsteps:\n  - sleep: 0\n", name="bravo")
    other = tmp_path / "other"
    other.mkdir()
    fr.write_job(other, "steps:\n  - sleep: 0\n", name="gamma")
    # completion runs in /, which has no jobs.d: only FLEETRUN_JOBS_DIR's
    # jobs show (and installed ones, which bin/ has none of)
    return {"FLEETRUN_JOBS_DIR": str(d)}, str(other)


def test_completion_commands(binaries):
    assert complete("fleetrun ") == COMMANDS + ["--help", "--version"]
    assert complete("fleetrun re") == ["report"]
    assert complete("fleetrun s") == ["submit"]


def test_completion_job_names(binaries, jobs_env):
    env, other = jobs_env
    assert sorted(complete("fleetrun run ", env)) == ["alpha", "beta", "bravo"]
    assert sorted(complete("fleetrun run b", env)) == ["beta", "bravo"]
    assert complete("fleetrun check alpha b", env) == ["beta", "bravo"]
    # after options and their values
    assert complete("fleetrun run -w 4 -H h[1-3] al", env) == ["alpha"]
    # run takes one job: nothing after it
    assert complete("fleetrun run alpha ", env) == []
    # --jobs-dir on the line comes first
    assert "gamma" in complete("fleetrun run --jobs-dir %s " % other, env)


def test_completion_options_and_values(binaries, jobs_env):
    env, _ = jobs_env
    assert complete("fleetrun run alpha --su", env) == ["--summary"]
    assert complete("fleetrun run alpha --summary ", env) == ["text", "json"]
    assert complete("fleetrun run alpha --format j", env) == ["jsonl"]
    assert complete("fleetrun report x.jsonl --summary j", env) == ["json"]
    assert sorted(complete("fleetrun report --", env)) == ["--follow", "--help", "--html", "--job", "--quiet",
                                                          "--summary"]
    assert complete("fleetrun hosts --from x --status failed,un", env) == ["failed,unreachable"]
    assert complete("fleetrun jobs --", env) == ["--jobs-dir", "--help"]
    # an option's value that has no list offers nothing
    assert complete("fleetrun run alpha -w ", env) == []


def test_completion_files(binaries, tmp_path):
    fr.write(tmp_path / "run.jsonl", "")
    fr.write(tmp_path / "notes.txt", "")
    base = str(tmp_path) + "/"
    assert complete("fleetrun report " + base) == [base + "run.jsonl"]
    assert sorted(complete("fleetrun run job -i " + base)) == [base + "notes.txt", base + "run.jsonl"]
    # merge takes any number of journals, and -o FILE among them
    assert complete("fleetrun merge " + base) == [base + "run.jsonl"]
    assert complete("fleetrun merge a.jsonl b.jsonl " + base) == [base + "run.jsonl"]
    assert sorted(complete("fleetrun merge a.jsonl -o " + base)) == [base + "notes.txt", base + "run.jsonl"]
    (tmp_path / "out").mkdir()
    assert complete("fleetrun submit --slurm --shards 4 --dir " + base) == [base + "out"]


def test_completion_shards(binaries, jobs_env):
    env, _ = jobs_env
    assert sorted(complete("fleetrun run alpha --sha", env)) == ["--shard", "--shards"]
    assert sorted(complete("fleetrun hosts --sha", env)) == ["--shard", "--shards"]
    assert complete("fleetrun run alpha --shard ", env) == ["auto"]
    assert complete("fleetrun hosts -i x --shard a", env) == ["auto"]
    assert complete("fleetrun run alpha --shards ", env) == []
    # the option values are not the job
    assert complete("fleetrun run --shard 0/4 --shards 4 al", env) == ["alpha"]
    # bash splits --opt=value at the =
    assert complete("fleetrun run --shard = auto al", env) == ["alpha"]
    assert complete("fleetrun run alpha --shard =", env) == ["auto"]
    assert complete("fleetrun run alpha --shard = a", env) == ["auto"]


def test_completion_merge_and_submit(binaries, jobs_env):
    env, _ = jobs_env
    assert sorted(complete("fleetrun merge --", env)) == ["--help", "--output", "--quiet", "--verbose"]
    assert sorted(complete("fleetrun submit --", env)) == ["--dir", "--dry-run", "--help", "--sbatch",
                                                          "--shards", "--slurm"]
    # the job, after submit's options and their values
    assert sorted(complete("fleetrun submit --slurm --shards 4 --dir d --sbatch --time=1:00:00 b", env)) == [
        "beta", "bravo"]
    assert complete("fleetrun submit --slurm --shards 4 --sbatch = --partition = batch al", env) == ["alpha"]
    # after the job: run's options, but not those submit sets itself
    after = complete("fleetrun submit --slurm --shards 4 alpha --", env)
    assert "--inventory" in after and "--resume" in after and "--summary" in after, after
    for refused in ("--output", "--shard", "--shards", "--dry-run", "--help"):
        assert refused not in after, (refused, after)
    assert complete("fleetrun submit --slurm --shards 4 alpha -w 8 --form", env) == ["--format"]
    assert complete("fleetrun submit --slurm --shards 4 alpha --format ", env) == ["text", "jsonl", "lines"]
    assert complete("fleetrun submit --slurm --shards 4 alpha ", env) == []
