! What a DFT code does at the end of its SCF to ask rung whether the RPA is worth running: it hands
! over its cell, atomic positions and species (here in QE's own variables: alat, at(:,:) and tau(:,:)
! in units of alat, atm(ityp(na))), gets the decision on every MPI rank, and carries on.
!
!   dft_end_of_scf [MODEL]      MODEL: a model folder (ipa.h5, rpa.h5, sc.h5) or sc model file;
!                               default: the model rung ships in share/models.
! Built and run by ctest serially and under mpirun -np 2 (examples/fortran/CMakeLists.txt): exit status 0 on
! success or a skip ("RUNG-SKIP:" printed: a build without LibTorch), 1 (MPI_Abort under MPI) on any failure.
program dft_end_of_scf
  use, intrinsic :: iso_c_binding, only: c_double, c_int
  use rung
#ifdef RUNG_EXAMPLE_MPI
  use mpi
#endif
  implicit none
  ! --- the DFT code's data: bulk Si, QE conventions (ibrav = 2) ---------------------------------
  integer, parameter :: nat = 2, ntyp = 1
  real(8), parameter :: alat = 10.26d0                       ! Bohr
  real(8) :: at(3, 3), tau(3, nat)
  character(len=3) :: atm(ntyp) = ['Si ']
  integer :: ityp(nat) = [1, 1]
  ! --- what rung needs ------------------------------------------------------------------------
  real(c_double) :: cell(3, 3), positions(3, nat), sc, spread, cpu
  integer(c_int) :: numbers(nat)
  type(rung_model_t) :: model
  type(rung_decision_t) :: decision
  character(len=:), allocatable :: json
  character(len=512) :: model_path
  integer :: st, na, z, kind, rank, comm, ierr, kmin, kmax
  logical :: untrained

  rank = 0
  comm = RUNG_COMM_NONE
#ifdef RUNG_EXAMPLE_MPI
  call MPI_Init(ierr)
  comm = MPI_COMM_WORLD
  call MPI_Comm_rank(comm, rank, ierr)
#endif
  at = reshape([-0.5d0, 0d0, 0.5d0, 0d0, 0.5d0, 0.5d0, -0.5d0, 0.5d0, 0d0], [3, 3])
  tau = reshape([0d0, 0d0, 0d0, 0.25d0, 0.25d0, 0.25d0], [3, nat])

  ! QE keeps at(:,i) and tau(:,na) in units of alat: rung wants Bohr, same column layout.
  cell = at * alat
  positions = tau * alat
  do na = 1, nat
    st = rung_atomic_number(atm(ityp(na)), z)
    if (st /= RUNG_OK) call die('species: '//rung_last_error())
    numbers(na) = z
  end do

  model_path = ''
  if (command_argument_count() >= 1) call get_command_argument(1, model_path)
  if (len_trim(model_path) > 0) then
    st = rung_model_load(model, trim(model_path))
  else
    st = rung_model_load(model)
  end if
  if (st == RUNG_ERR_UNAVAILABLE) then
    ! A build without LibTorch: nothing to check. The marker ctest takes for a skip (SKIP_REGULAR_EXPRESSION) is
    ! printed on this path only, which ends with status 0; every failure below ends with status 1.
    if (rank == 0) print '(a)', 'RUNG-SKIP: '//rung_last_error()
    call finish(0)
  end if
  if (st /= RUNG_OK) call die('loading the model: '//rung_last_error())
  st = rung_model_untrained(model, untrained)
  if (st /= RUNG_OK) call die('rung_model_untrained: '//rung_last_error())

  ! Every rank calls rung_select with the communicator; all get the same decision.
  st = rung_select(model, cell, positions, numbers, decision, options='{"threshold": 0.9}', comm=comm)
  if (st /= RUNG_OK) call die('rung_select: '//rung_last_error())
  st = rung_decision_kind_of(decision, kind)
  if (st /= RUNG_OK) call die('rung_decision_kind_of: '//rung_last_error())
  st = rung_decision_numbers(decision, sc, spread, cpu)
  if (st /= RUNG_OK) call die('rung_decision_numbers: '//rung_last_error())
  kmin = kind
  kmax = kind
#ifdef RUNG_EXAMPLE_MPI
  call MPI_Allreduce(kind, kmin, 1, MPI_INTEGER, MPI_MIN, comm, ierr)
  call MPI_Allreduce(kind, kmax, 1, MPI_INTEGER, MPI_MAX, comm, ierr)
#endif
  if (kmin /= kmax) call die('ranks disagree about the decision')
#ifdef RUNG_EXAMPLE_MPI
  ! Only rank 0's arrays are used: another rank may pass arrays that do not match (here no species at all), and the
  ! collective call still ends with the same decision on every rank (a rank refusing them alone would leave rank 0
  ! waiting in the call).
  block
    type(rung_decision_t) :: again
    integer :: kind2
    if (rank == 0) then
      st = rung_select(model, cell, positions, numbers, again, options='{"threshold": 0.9}', comm=comm)
    else
      st = rung_select(model, cell, positions, numbers(1:0), again, options='{"threshold": 0.9}', comm=comm)
    end if
    if (st /= RUNG_OK) call die('rung_select with other ranks'' arrays ignored: '//rung_last_error())
    st = rung_decision_kind_of(again, kind2)
    if (st /= RUNG_OK .or. kind2 /= kind) call die('the second decision differs from the first')
    st = rung_decision_free(again)
    ! rank 0's arrays wrong: a usage error on every rank
    if (rank == 0) then
      st = rung_select(model, cell, positions, numbers(1:0), again, options='{"threshold": 0.9}', comm=comm)
    else
      st = rung_select(model, cell, positions, numbers, again, options='{"threshold": 0.9}', comm=comm)
    end if
    if (st /= RUNG_ERR_USAGE) call die('rank 0''s mismatched arrays were not a usage error on every rank')
    if (index(rung_last_error(), 'disagree in shape') == 0) call die('unexpected message: '//rung_last_error())
  end block
#endif
  if (rank == 0) then
    st = rung_decision_json(decision, json)
    if (st /= RUNG_OK) call die('rung_decision_json: '//rung_last_error())
    if (index(json, '"decision"') == 0) call die('no decision in the JSON log entry')
    ! every check passed: the decision, as the DFT code would report it
    print '(a,a)', 'rung decision: ', rung_decision_name(kind)
    print '(a,f7.4,a,f7.4)', '  predicted SC(IPA,RPA) = ', sc, ' +- ', spread
    if (cpu >= 0) print '(a,es10.3,a)', '  estimated RPA cost: ', cpu / 3600, ' CPU-h'
    if (untrained) print '(a)', '  (the model is UNTRAINED: random weights, this decision means nothing)'
  end if
  st = rung_decision_free(decision)
  if (st /= RUNG_OK) call die('rung_decision_free: '//rung_last_error())
  st = rung_model_free(model)
  if (st /= RUNG_OK) call die('rung_model_free: '//rung_last_error())
  call finish(0)

contains
  subroutine die(msg)
    character(len=*), intent(in) :: msg
    write (0, '(a,a)') 'dft_end_of_scf: ', msg
    call finish(1)
  end subroutine

  subroutine finish(code)
    integer, intent(in) :: code
#ifdef RUNG_EXAMPLE_MPI
    if (code /= 0) call MPI_Abort(MPI_COMM_WORLD, code, ierr)
    call MPI_Finalize(ierr)
#endif
    if (code /= 0) error stop 1
    stop
  end subroutine
end program dft_end_of_scf
