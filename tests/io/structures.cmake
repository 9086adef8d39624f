# Structure readers and the OPTIMATE crystal graph (plain C++: built with or without LibTorch).
rung_add_tests(test_structures LABELS io SOURCES
  io/structures_readers.cpp io/structures_graph.cpp io/structures_dataset.cpp
  FIXTURES qe_runs)  # the QE XML case reads the si_tiny run too
