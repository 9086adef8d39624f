! The Fortran module against the library at run time: the module's API version must equal the
! library's, errors come back as status + message, the policy works through the typed handles, and
! (given a QE save as the first argument) the structure comes back in Fortran order.
program test_fortran
  use, intrinsic :: iso_c_binding, only: c_double, c_int
  use rung
  implicit none
  integer :: failures = 0, st, st_model, major, minor, patch, kind, nat, nargs
  logical :: have_save
  type(rung_save_t) :: save
  type(rung_decision_t) :: decision
  type(rung_model_t) :: model
  character(len=:), allocatable :: msg, json, version
  character(len=512) :: path
  real(c_double) :: sc, spread, cpu, cell(3, 3)
  real(c_double), allocatable :: positions(:, :)
  integer(c_int), allocatable :: numbers(:)

  ! Version: the module was written for the library's API.
  call check(rung_api_version() == RUNG_MODULE_API_VERSION, 'module API version = library API version')
  st = rung_version(major, minor, patch)
  version = rung_version_string()
  call check(st == RUNG_OK .and. len(version) >= 5, 'version string')
  write (0, '(a,a,a,i0)') 'rung ', version, ', API ', rung_api_version()

  ! Error path.
  st = rung_save_open('/nonexistent/rung/si.save', save)
  call check(st == RUNG_ERR_INPUT, 'missing save -> RUNG_ERR_INPUT')
  msg = rung_last_error()
  call check(index(msg, '/nonexistent/rung/si.save') > 0, 'message names the path: '//msg)
  call check(rung_last_status() == RUNG_ERR_INPUT, 'last status')
  st = rung_model_load(model, '/nonexistent/rung/models')
  call check(st == RUNG_ERR_INPUT .or. st == RUNG_ERR_UNAVAILABLE, 'missing model')
  st_model = st

  ! Arrays whose shapes disagree: a usage error with a message of its own (no call into the model).
  allocate(positions(3, 2), numbers(3))
  positions = 0; numbers = 14; cell = 0
  st = rung_select(model, cell, positions, numbers, decision)
  call check(st == RUNG_ERR_USAGE .and. rung_last_status() == RUNG_ERR_USAGE, 'shape mismatch -> RUNG_ERR_USAGE')
  msg = rung_last_error()
  call check(index(msg, 'rung_select') > 0 .and. index(msg, 'positions(3, 2)') > 0 .and. &
             index(msg, 'numbers(3)') > 0, 'shape message names the call and both shapes: '//msg)
  deallocate(positions, numbers)
  st = rung_model_load(model, '/nonexistent/rung/models')  ! (the model's failure is the last again, as below)

  ! The policy.
  st = rung_decide(0.95_c_double, 0.01_c_double, decision)
  st = rung_decision_kind_of(decision, kind)
  call check(kind == RUNG_IPA_SUFFICIENT, 'SC 0.95 +- 0.01 -> ipa-sufficient')
  call check(rung_decision_name(kind) == 'ipa-sufficient', 'decision name')
  st = rung_decision_json(decision, json)
  call check(st == RUNG_OK .and. index(json, '"decision":"ipa-sufficient"') > 0, 'decision JSON: '//json)
  ! (its size query is no failure: the last failure is still the model's, not a too-small buffer)
  call check(rung_last_status() == st_model, 'rung_decision_json leaves rung_last_status alone')
  st = rung_decision_free(decision)
  st = rung_decide(0.6_c_double, 0.01_c_double, decision, options='{"threshold": 0.5}')
  st = rung_decision_kind_of(decision, kind)
  call check(kind == RUNG_IPA_SUFFICIENT, 'threshold option reaches the policy')
  st = rung_decision_numbers(decision, sc, spread, cpu)
  call check(abs(sc - 0.6d0) < 1d-15 .and. cpu < 0, 'decision numbers')
  st = rung_decision_free(decision)
  st = rung_decide(0.6_c_double, 0.01_c_double, decision, options='{"bogus": 1}')
  call check(st == RUNG_ERR_USAGE .and. index(rung_last_error(), 'bogus') > 0, 'unknown option rejected')

  ! A QE save given as the first argument (ctest gives the si_tiny run, which tests/fixtures/run_qe.sh
  ! always makes): a save that is absent or does not open is a failure.
  nargs = command_argument_count()
  if (nargs >= 1) then
    call get_command_argument(1, path)
    inquire (file=trim(path)//'/data-file-schema.xml', exist=have_save)
    call check(have_save, 'the fixture save '//trim(path)//' (tests/fixtures/run_qe.sh makes it)')
    if (have_save) then
      st = rung_save_open(trim(path), save)
      call check(st == RUNG_OK, 'rung_save_open on the fixture save ('//trim(path)//'): '//rung_last_error())
      if (st == RUNG_OK) then
        st = rung_save_natoms(save, nat)
        call check(st == RUNG_OK .and. nat == 2, 'two atoms')
        st = rung_save_structure(save, cell, positions, numbers)
        call check(st == RUNG_OK, 'structure')
        if (st == RUNG_OK) then
          ! Columns are the lattice vectors: |a_i| = alat/sqrt(2) for fcc Si with alat 10.26 Bohr.
          call check(abs(norm2(cell(:, 1)) - 10.26d0 / sqrt(2d0)) < 1d-6, 'cell column = lattice vector')
          call check(size(numbers) == 2, 'two atomic numbers')
          call check(all(numbers == 14), 'atomic numbers')
          call check(size(positions, 2) == 2, 'two positions')
          if (size(positions, 2) == 2) then
            call check(abs(norm2(positions(:, 2) - positions(:, 1)) - 10.26d0 * sqrt(3d0) / 4) < 1d-6, 'Si-Si bond')
          end if
        end if
        st = rung_save_free(save)
      end if
    end if
  end if

  if (failures > 0) then
    write (0, '(i0,a)') failures, ' check(s) failed'
    error stop 1
  end if
contains
  subroutine check(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    if (.not. ok) then
      write (0, '(a,a)') 'FAILED: ', what
      failures = failures + 1
    end if
  end subroutine
end program test_fortran
