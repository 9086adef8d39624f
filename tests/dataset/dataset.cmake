# The data-set factory (`rung dataset`, src/dataset/): k grids, symmetry, records, restart,
# failure recording, stats, and one tiny end-to-end run with pw.x (skipped without pw.x).
rung_add_tests(test_dataset LABELS "dataset" SOURCES dataset/test_dataset.cpp)
