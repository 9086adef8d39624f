# The OPTIMATE model in LibTorch (only when rung is built with it).
if(TARGET rung_torch)
  rung_add_tests(test_ml LABELS ml SOURCES
    ml/test_architecture.cpp ml/test_model.cpp ml/test_output.cpp ml/test_training.cpp ml/test_shipped_models.cpp LIBS rung_torch torch)
endif()
