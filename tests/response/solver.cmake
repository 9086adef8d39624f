# The response solver (chi0, Dyson, rung spectrum): unit tests on synthetic oscillators, and the
# acceptance tests against YAMBO 5.2.4, yambo-tests and QE epsilon.x on the QE fixture runs.
rung_add_tests(test_chi0 LABELS "response" SOURCES response/chi0_unit.cpp)
