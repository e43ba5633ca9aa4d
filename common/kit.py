"""kit.py - what every chapter's Python twin shares with the C programs: the TSV format, the
standard options and the verification exit.

    stats_row(variant, x, unit, samples)   one measurement row: n, median, min, max, mean, stddev
    metadata(chapter, program, experiment, mode)   the "# chapter=..." and "# host=..." lines
    write_tsv(out, chapter, program, experiment, mode, header, rows, notes=())
        results/chNN-python-<experiment>.tsv, written whole (a temporary file, then a rename)
    MEASUREMENT_COLUMNS                    the header of a measurement table
    add_mode_options(ap)                   --quick | --full; args.mode is quick, default or full
    add_trials_option(ap, help=...)        --trials N, None when not given
    trials_or_default(ap, trials, default) the --trials given (1 to 1000, else a usage error,
                                           exit 2), or the mode's default when none was given
    times_four(first, largest)             first, 4 x first, ... below largest, then largest
    VerificationFailed                     raised where a result is found wrong
    verified_or_exit(program)              a with-block: a VerificationFailed raised inside it
                                           ends the run with "PROGRAM: verification failed:
                                           ..." on stderr and exit status 1
    run_checked(program, experiments, args)   run(args) for each (name, run) that --only picks
                                           (all without --only), inside verified_or_exit

A twin imports it with its own directory's parent's parent on sys.path:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "common"))
"""
import contextlib
import os
import platform
import statistics
import sys
import time

MEASUREMENT_COLUMNS = "variant\tx\tunit\tn\tmedian\tmin\tmax\tmean\tstddev"


def stats_row(variant, x, unit, samples):
    s = sorted(samples)
    sd = statistics.stdev(s) if len(s) > 1 else 0.0
    return (f"{variant}\t{x}\t{unit}\t{len(s)}\t{statistics.median(s):.6g}\t{s[0]:.6g}\t"
            f"{s[-1]:.6g}\t{statistics.mean(s):.6g}\t{sd:.6g}")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip().replace(" ", "_")
    except OSError:
        pass
    return "unknown"


def metadata(chapter, program, experiment, mode):
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return (f"# chapter={chapter} program={program} experiment={experiment} mode={mode}\n"
            f"# host={platform.node() or 'unknown'} cpus={os.cpu_count()} model={cpu_model()} "
            f"kernel={platform.release()} date={date} "
            f"git={os.environ.get('KIT_GIT') or 'unknown'}\n"
            f"# args={' '.join(sys.argv[1:])}\n"
            f"# python={platform.python_version()}\n")


def write_tsv(out, chapter, program, experiment, mode, header, rows, notes=()):
    """notes: extra metadata lines without the "# " (e.g. "x=bytes" for a measurement table)."""
    path = os.path.join(out, f"ch{chapter}-python-{experiment}.tsv")
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temp, "w") as f:
            f.write(metadata(chapter, program, experiment, mode))
            f.writelines(f"# {note}\n" for note in notes)
            f.write(header + "\n")
            f.writelines(f"{row}\n" for row in rows)
        os.replace(temp, path)
    except OSError as e:
        try:
            os.unlink(temp)
        except OSError:
            pass
        sys.exit(f"{program}: writing {path} failed: {e.strerror}")
    return path


# ---------- options every twin spells the same way ----------

def add_mode_options(ap):
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      default="default", help="CI size (a few seconds)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="publication size")


def add_trials_option(ap, help="trials per point (1 to 1000)"):
    ap.add_argument("--trials", type=int, default=None, help=help)


def trials_or_default(ap, trials, default):
    if trials is None:
        return default
    if not 1 <= trials <= 1000:
        ap.error(f"--trials: {trials} is out of range (accepted: 1 to 1000)")
    return trials


def times_four(first, largest):
    sizes, size = [], first
    while size < largest:
        sizes.append(size)
        size *= 4
    return sizes + [largest]


# ---------- a wrong result ends the run: exit 1 ----------

class VerificationFailed(Exception):
    pass


@contextlib.contextmanager
def verified_or_exit(program):
    """program None: the message starts with "verification failed:" itself."""
    try:
        yield
    except VerificationFailed as e:
        print(f"{program + ': ' if program else ''}verification failed: {e}", file=sys.stderr)
        sys.exit(1)


def run_checked(program, experiments, args):
    with verified_or_exit(program):
        for name, run in experiments:
            if args.only in (None, name):
                run(args)
