from .cli import main

if __name__ == "__main__":  # a guard: Dask's worker processes are spawned and re-import the main module
    main()
