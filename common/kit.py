"""kit.py - what every chapter's Python twin shares with the C programs: the TSV format.

    stats_row(variant, x, unit, samples)   one measurement row: n, median, min, max, mean, stddev
    metadata(chapter, program, experiment, mode)   the "# chapter=..." and "# host=..." lines
    write_tsv(out, chapter, experiment, header, rows, notes=())
        results/chNN-python-<experiment>.tsv, written whole (a temporary file, then a rename)
    MEASUREMENT_COLUMNS                    the header of a measurement table

A twin imports it with its own directory's parent's parent on sys.path:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "common"))
"""
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
