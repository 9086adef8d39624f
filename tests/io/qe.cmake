# QE readers (prefix.save XML + wfc, UPF), the Brillouin-zone helpers and `rung info`, on the pw.x fixture
# runs. Label "readers": also run by CI's sanitizer stage (ASan+UBSan, LibTorch off).
rung_add_tests(test_io_qe LABELS readers SOURCES
  io/qe_save_tests.cpp io/qe_bad_input_tests.cpp io/qe_upf_bz_tests.cpp io/qe_info_tests.cpp io/qe_pw_input.cpp
  FIXTURES qe_runs)
# `rung info` cases (kind "cli") run the built command; a readers-only build has none and leaves them out (-LE cli).
rung_test_uses_cli(test_io_qe)
