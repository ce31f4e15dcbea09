"""`python -m vae.sweep --name NAME --betas 0.5 1 2 4 8 [vae.train options]`: one model per value,
one after another, written as OUT_DIR/NAME-VALUE.pt and tagged as one sweep for the Compare page."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from vae.errors import VAEError
from vae.training.cli import build_parser, configs_from_args, options_error, summary
from vae.training.distributed import is_main_process
from vae.training.jobs import checkpoint_name
from vae.training.loop import train
from vae.training.sweep_plan import parse_values, sweep_members


def main(argv: list[str] | None = None) -> int:
    args = build_parser(sweep=True).parse_args(argv)
    cfg, model_config = configs_from_args(args)
    parameter = "beta" if args.betas else "free_bits"
    if error := options_error(args):
        print(error, file=sys.stderr)
        return 2
    try:
        name = checkpoint_name(args.name).removesuffix(".pt")
        members = sweep_members(name, parse_values(args.betas or args.free_bits_values))
        out_dir = Path(args.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for number, member in enumerate(members, 1):
            if not args.quiet:
                print(f"[{number}/{len(members)}] {member.name}: {parameter} = {member.value:g}", file=sys.stderr)
            member_cfg = replace(cfg, **{parameter: member.value}, sweep=name)
            _, meta = train(member_cfg, out_dir / member.name, model_config, progress=not args.quiet)
            if not args.quiet and is_main_process():  # only rank 0 measures the final metrics
                print(summary(out_dir / member.name, meta), file=sys.stderr)
    except (VAEError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\ninterrupted: the models finished so far are saved; the one in training holds its last finished "
            "epoch (continue it with python -m vae.train --out THAT_FILE --epochs N --resume)",
            file=sys.stderr,
        )
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
