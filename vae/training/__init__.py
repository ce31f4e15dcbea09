"""Training: what a run is asked to do (`config`), the loop (`loop`), its command line
(`cli`, behind `python -m vae.train`), bf16 and memory layout (`precision`), torchrun
(`distributed`), and the app's background jobs: the file protocol and process control
(`jobs`) and the job itself in its own process (`job_child`)."""
