"""galclust: group galaxy images by what they look like, without labels.

The package holds the logic of the Snakemake workflow (``Snakefile``, ``rules/``):
every rule's script is a thin call into one of these modules.
"""

__version__ = "0.1.0"
