

def test_name_globs_match_file_names_only() -> None:
    """``conda*.yaml`` is an environment file's name; a conda recipe directory is not one."""
    from lockin_lint.analyzers import language_of

    assert language_of("conda/pytorch-scatter/meta.yaml") == "python"  # not discovered: not a source
    assert language_of("envs/conda-gpu.yaml") == "deps"
    assert language_of("a/requirements/dev.txt") == "deps" and language_of("x/.github/workflows/ci.yml") == "config"
    assert language_of("workflows/ci.yml") == "python"
