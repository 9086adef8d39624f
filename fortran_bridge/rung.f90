! rung's Fortran module: a one-to-one mirror of the C API in src/capi/rung.h, less rung_report_usage_error,
! which it calls itself for its own argument checks (read that header for
! the meaning of every call; doc/c-api.md for examples).
!
!  - Every function returns an integer status (RUNG_OK = 0); rung_last_error() returns the message
!    of the calling thread's last failure as an allocatable character string.
!  - Handles are derived types with a private C pointer; free them with the matching rung_*_free.
!    A call that fills a handle (rung_save_open, rung_select, ...) overwrites it: free a live handle
!    before reusing it, or the object it held is leaked.
!  - Arrays keep Fortran's natural layout: cell(3,3) has the lattice vectors as COLUMNS (as QE's
!    at(:,i), in Bohr, i.e. at*alat), positions(3,nat) are Cartesian in Bohr (QE: tau*alat),
!    numbers(nat) atomic numbers. Energies of spectra are in eV.
!  - Options are one JSON string (omit for defaults); comm is a Fortran MPI communicator
!    (omit, or RUNG_COMM_NONE, for a serial call).
module rung
  use, intrinsic :: iso_c_binding
  implicit none
  private

  ! The C API version this module was written for; compare with rung_api_version() (the library's)
  ! at run time: a mismatch means the module and the library come from different rung versions.
  integer, parameter, public :: RUNG_MODULE_API_VERSION = 2
  integer, parameter, public :: RUNG_COMM_NONE = -1

  integer, parameter, public :: RUNG_OK = 0, RUNG_ERR_RUNTIME = 1, RUNG_ERR_INPUT = 2, RUNG_ERR_USAGE = 3, &
                                RUNG_ERR_UNAVAILABLE = 4, RUNG_ERR_BUFFER = 5, RUNG_ERR_INTERNAL = 6
  integer, parameter, public :: RUNG_IPA_SUFFICIENT = 0, RUNG_RPA_NEEDED = 1, RUNG_UNCERTAIN = 2

  type, public :: rung_save_t
    private
    type(c_ptr) :: ptr = c_null_ptr
  end type
  type, public :: rung_model_t
    private
    type(c_ptr) :: ptr = c_null_ptr
  end type
  type, public :: rung_prediction_t
    private
    type(c_ptr) :: ptr = c_null_ptr
  end type
  type, public :: rung_decision_t
    private
    type(c_ptr) :: ptr = c_null_ptr
  end type
  type, public :: rung_spectrum_t
    private
    type(c_ptr) :: ptr = c_null_ptr
  end type

  public :: rung_api_version, rung_version, rung_version_string, rung_last_error, rung_last_status, &
            rung_set_progress, rung_atomic_number, &
            rung_save_open, rung_save_free, rung_save_natoms, rung_save_nbands, rung_save_structure, &
            rung_model_load, rung_model_load_options, rung_model_free, rung_model_untrained, &
            rung_predict, rung_prediction_free, rung_prediction_npoints, rung_prediction_spectra, rung_prediction_sc, &
            rung_select, rung_select_save, rung_decide, rung_decision_free, rung_decision_kind_of, &
            rung_decision_numbers, rung_decision_json, &
            rung_compute_spectrum, rung_spectrum_free, rung_spectrum_npoints, rung_spectrum_data, rung_spectrum_write, &
            rung_spectrum_use_component, rung_spectrum_data_nolf, &
            rung_decision_name

  interface
    function c_api_version() bind(C, name="rung_api_version")
      import :: c_int
      integer(c_int) :: c_api_version
    end function
    function c_version(major, minor, patch) bind(C, name="rung_version")
      import :: c_int
      integer(c_int) :: major, minor, patch
      integer(c_int) :: c_version
    end function
    function c_version_string(buf, len, needed) bind(C, name="rung_version_string")
      import :: c_int, c_char, c_size_t
      character(kind=c_char) :: buf(*)
      integer(c_size_t), value :: len
      integer(c_size_t) :: needed
      integer(c_int) :: c_version_string
    end function
    function c_last_error(buf, len) bind(C, name="rung_last_error")
      import :: c_char, c_size_t
      character(kind=c_char) :: buf(*)
      integer(c_size_t), value :: len
      integer(c_size_t) :: c_last_error
    end function
    function c_last_status() bind(C, name="rung_last_status")
      import :: c_int
      integer(c_int) :: c_last_status
    end function
    function c_report_usage_error(message) bind(C, name="rung_report_usage_error")
      import :: c_int, c_char
      character(kind=c_char) :: message(*)
      integer(c_int) :: c_report_usage_error
    end function
    function c_set_progress(enabled) bind(C, name="rung_set_progress")
      import :: c_int
      integer(c_int), value :: enabled
      integer(c_int) :: c_set_progress
    end function
    function c_atomic_number(symbol, z) bind(C, name="rung_atomic_number")
      import :: c_int, c_char
      character(kind=c_char) :: symbol(*)
      integer(c_int) :: z
      integer(c_int) :: c_atomic_number
    end function

    function c_save_open(path, out) bind(C, name="rung_save_open")
      import :: c_int, c_char, c_ptr
      character(kind=c_char) :: path(*)
      type(c_ptr) :: out
      integer(c_int) :: c_save_open
    end function
    function c_save_free(h) bind(C, name="rung_save_free")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: c_save_free
    end function
    function c_save_natoms(h, n) bind(C, name="rung_save_natoms")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: n
      integer(c_int) :: c_save_natoms
    end function
    function c_save_nbands(h, n) bind(C, name="rung_save_nbands")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: n
      integer(c_int) :: c_save_nbands
    end function
    function c_save_structure(h, cell, positions, numbers, capacity) bind(C, name="rung_save_structure")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: h
      real(c_double) :: cell(*), positions(*)
      integer(c_int) :: numbers(*)
      integer(c_int), value :: capacity
      integer(c_int) :: c_save_structure
    end function

    function c_model_load(path, out) bind(C, name="rung_model_load")
      import :: c_int, c_char, c_ptr
      character(kind=c_char) :: path(*)
      type(c_ptr) :: out
      integer(c_int) :: c_model_load
    end function
    function c_model_load_options(options, out) bind(C, name="rung_model_load_options")
      import :: c_int, c_char, c_ptr
      character(kind=c_char) :: options(*)
      type(c_ptr) :: out
      integer(c_int) :: c_model_load_options
    end function
    function c_model_free(h) bind(C, name="rung_model_free")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: c_model_free
    end function
    function c_model_untrained(h, u) bind(C, name="rung_model_untrained")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: u
      integer(c_int) :: c_model_untrained
    end function

    function c_predict(model, cell, natoms, positions, numbers, out) bind(C, name="rung_predict")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: model
      real(c_double) :: cell(*), positions(*)
      integer(c_int), value :: natoms
      integer(c_int) :: numbers(*)
      type(c_ptr) :: out
      integer(c_int) :: c_predict
    end function
    function c_prediction_free(h) bind(C, name="rung_prediction_free")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: c_prediction_free
    end function
    function c_prediction_npoints(h, n) bind(C, name="rung_prediction_npoints")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: n
      integer(c_int) :: c_prediction_npoints
    end function
    function c_prediction_spectra(h, e, ipa, rpa, n) bind(C, name="rung_prediction_spectra")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: h
      real(c_double) :: e(*), ipa(*), rpa(*)
      integer(c_int), value :: n
      integer(c_int) :: c_prediction_spectra
    end function
    function c_prediction_sc(h, sc, spread) bind(C, name="rung_prediction_sc")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: h
      real(c_double) :: sc, spread
      integer(c_int) :: c_prediction_sc
    end function

    function c_select(model, cell, natoms, positions, numbers, options, fcomm, out) bind(C, name="rung_select")
      import :: c_int, c_ptr, c_double, c_char
      type(c_ptr), value :: model
      real(c_double) :: cell(*), positions(*)
      integer(c_int), value :: natoms
      integer(c_int) :: numbers(*)
      character(kind=c_char) :: options(*)
      integer(c_int), value :: fcomm
      type(c_ptr) :: out
      integer(c_int) :: c_select
    end function
    function c_select_save(model, save, options, fcomm, out) bind(C, name="rung_select_save")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: model, save
      character(kind=c_char) :: options(*)
      integer(c_int), value :: fcomm
      type(c_ptr) :: out
      integer(c_int) :: c_select_save
    end function
    function c_decide(sc, spread, options, out) bind(C, name="rung_decide")
      import :: c_int, c_ptr, c_double, c_char
      real(c_double), value :: sc, spread
      character(kind=c_char) :: options(*)
      type(c_ptr) :: out
      integer(c_int) :: c_decide
    end function
    function c_decision_free(h) bind(C, name="rung_decision_free")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: c_decision_free
    end function
    function c_decision_kind_of(h, kind) bind(C, name="rung_decision_kind_of")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: kind
      integer(c_int) :: c_decision_kind_of
    end function
    function c_decision_numbers(h, sc, spread, cpu) bind(C, name="rung_decision_numbers")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: h
      real(c_double) :: sc, spread, cpu
      integer(c_int) :: c_decision_numbers
    end function
    function c_decision_json(h, buf, len, needed) bind(C, name="rung_decision_json")
      import :: c_int, c_ptr, c_size_t
      type(c_ptr), value :: h
      type(c_ptr), value :: buf  ! c_null_ptr: a size query
      integer(c_size_t), value :: len
      integer(c_size_t) :: needed
      integer(c_int) :: c_decision_json
    end function

    function c_compute_spectrum(save, theory, options, fcomm, out) bind(C, name="rung_compute_spectrum")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: save
      character(kind=c_char) :: theory(*), options(*)
      integer(c_int), value :: fcomm
      type(c_ptr) :: out
      integer(c_int) :: c_compute_spectrum
    end function
    function c_spectrum_free(h) bind(C, name="rung_spectrum_free")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: c_spectrum_free
    end function
    function c_spectrum_use_component(h, component) bind(C, name="rung_spectrum_use_component")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: h
      character(kind=c_char), intent(in) :: component(*)
      integer(c_int) :: c_spectrum_use_component
    end function
    function c_spectrum_npoints(h, n) bind(C, name="rung_spectrum_npoints")
      import :: c_int, c_ptr
      type(c_ptr), value :: h
      integer(c_int) :: n
      integer(c_int) :: c_spectrum_npoints
    end function
    function c_spectrum_data(h, e, re, im, n) bind(C, name="rung_spectrum_data")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: h
      real(c_double) :: e(*), re(*), im(*)
      integer(c_int), value :: n
      integer(c_int) :: c_spectrum_data
    end function
    function c_spectrum_data_nolf(h, re, im, n) bind(C, name="rung_spectrum_data_nolf")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: h
      real(c_double) :: re(*), im(*)
      integer(c_int), value :: n
      integer(c_int) :: c_spectrum_data_nolf
    end function
    function c_spectrum_write(h, path) bind(C, name="rung_spectrum_write")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: h
      character(kind=c_char) :: path(*)
      integer(c_int) :: c_spectrum_write
    end function
  end interface

contains

  ! Fortran string -> NUL-terminated C string (trailing blanks dropped, as Fortran callers expect).
  pure function cstr(s) result(c)
    character(len=*), intent(in) :: s
    character(kind=c_char, len=len_trim(s) + 1) :: c
    c = trim(s) // c_null_char
  end function

  function opt_str(s) result(c)
    character(len=*), intent(in), optional :: s
    character(kind=c_char, len=:), allocatable :: c
    if (present(s)) then
      c = cstr(s)
    else
      c = c_null_char
    end if
  end function

  integer(c_int) function opt_comm(comm)
    integer, intent(in), optional :: comm
    opt_comm = RUNG_COMM_NONE
    if (present(comm)) opt_comm = comm
  end function

  ! C buffer (first n characters) -> Fortran string.
  function from_buf(buf, n) result(s)
    character(kind=c_char), intent(in) :: buf(:)
    integer, intent(in) :: n
    character(len=:), allocatable :: s
    integer :: i
    allocate(character(len=n) :: s)
    do i = 1, n
      s(i:i) = buf(i)
    end do
  end function

  ! ---- version and errors -----------------------------------------------------------------
  integer function rung_api_version()
    rung_api_version = c_api_version()
  end function

  integer function rung_version(major, minor, patch)
    integer, intent(out) :: major, minor, patch
    integer(c_int) :: a, b, c
    rung_version = c_version(a, b, c)
    major = a; minor = b; patch = c
  end function

  function rung_version_string() result(s)
    character(len=:), allocatable :: s
    character(kind=c_char) :: buf(64)
    integer(c_size_t) :: needed
    integer(c_int) :: st
    st = c_version_string(buf, int(size(buf), c_size_t), needed)
    s = from_buf(buf, int(min(needed, int(size(buf) - 1, c_size_t))))
  end function

  function rung_last_error() result(msg)
    character(len=:), allocatable :: msg
    character(kind=c_char), allocatable :: buf(:)
    character(kind=c_char) :: probe(1)
    integer(c_size_t) :: n
    n = c_last_error(probe, 1_c_size_t)
    allocate(buf(n + 1))
    n = c_last_error(buf, n + 1)
    msg = from_buf(buf, int(n))
  end function

  integer function rung_last_status()
    rung_last_status = c_last_status()
  end function

  integer function rung_set_progress(enabled)
    logical, intent(in) :: enabled
    rung_set_progress = c_set_progress(merge(1_c_int, 0_c_int, enabled))
  end function

  integer function rung_atomic_number(symbol, z)
    character(len=*), intent(in) :: symbol
    integer, intent(out) :: z
    integer(c_int) :: zc
    zc = 0
    rung_atomic_number = c_atomic_number(cstr(adjustl(symbol)), zc)
    z = zc
  end function

  ! ---- QE runs -----------------------------------------------------------------------------
  integer function rung_save_open(path, save)
    character(len=*), intent(in) :: path
    type(rung_save_t), intent(inout) :: save
    rung_save_open = c_save_open(cstr(path), save%ptr)
  end function

  integer function rung_save_free(save)
    type(rung_save_t), intent(inout) :: save
    rung_save_free = c_save_free(save%ptr)
    save%ptr = c_null_ptr
  end function

  integer function rung_save_natoms(save, natoms)
    type(rung_save_t), intent(in) :: save
    integer, intent(out) :: natoms
    integer(c_int) :: n
    n = 0
    rung_save_natoms = c_save_natoms(save%ptr, n)
    natoms = n
  end function

  integer function rung_save_nbands(save, nbands)
    type(rung_save_t), intent(in) :: save
    integer, intent(out) :: nbands
    integer(c_int) :: n
    n = 0
    rung_save_nbands = c_save_nbands(save%ptr, n)
    nbands = n
  end function

  ! cell(3,3) (columns = lattice vectors, Bohr), positions(3,nat) Cartesian Bohr, numbers(nat).
  integer function rung_save_structure(save, cell, positions, numbers)
    type(rung_save_t), intent(in) :: save
    real(c_double), intent(out) :: cell(3, 3)
    real(c_double), allocatable, intent(out) :: positions(:, :)
    integer(c_int), allocatable, intent(out) :: numbers(:)
    integer :: nat
    rung_save_structure = rung_save_natoms(save, nat)
    if (rung_save_structure /= RUNG_OK) return
    allocate(positions(3, nat), numbers(nat))
    rung_save_structure = c_save_structure(save%ptr, cell, positions, numbers, int(nat, c_int))
  end function

  ! ---- prediction --------------------------------------------------------------------------
  integer function rung_model_load(model, path)
    type(rung_model_t), intent(inout) :: model
    character(len=*), intent(in), optional :: path  ! a model-set folder or an sc model file; omitted: share/models
    rung_model_load = c_model_load(opt_str(path), model%ptr)
  end function

  integer function rung_model_load_options(model, options)
    type(rung_model_t), intent(inout) :: model
    character(len=*), intent(in), optional :: options  ! JSON over the predict option keys (rung.h)
    rung_model_load_options = c_model_load_options(opt_str(options), model%ptr)
  end function

  integer function rung_model_free(model)
    type(rung_model_t), intent(inout) :: model
    rung_model_free = c_model_free(model%ptr)
    model%ptr = c_null_ptr
  end function

  integer function rung_model_untrained(model, untrained)
    type(rung_model_t), intent(in) :: model
    logical, intent(out) :: untrained
    integer(c_int) :: u
    u = 0
    rung_model_untrained = c_model_untrained(model%ptr, u)
    untrained = u /= 0
  end function

  integer function rung_predict(model, cell, positions, numbers, prediction)
    type(rung_model_t), intent(in) :: model
    real(c_double), intent(in) :: cell(3, 3), positions(:, :)
    integer(c_int), intent(in) :: numbers(:)
    type(rung_prediction_t), intent(inout) :: prediction
    real(c_double) :: c(3, 3)
    real(c_double), allocatable :: p(:, :)
    integer(c_int), allocatable :: z(:)
    c = cell
    allocate(p, source=positions)
    allocate(z, source=numbers)
    if (size(positions, 1) /= 3 .or. size(positions, 2) /= size(numbers)) then
      rung_predict = shape_error('rung_predict', positions, numbers)
      return
    end if
    rung_predict = c_predict(model%ptr, c, int(size(numbers), c_int), p, z, prediction%ptr)
  end function

  integer function rung_prediction_free(prediction)
    type(rung_prediction_t), intent(inout) :: prediction
    rung_prediction_free = c_prediction_free(prediction%ptr)
    prediction%ptr = c_null_ptr
  end function

  integer function rung_prediction_npoints(prediction, n)
    type(rung_prediction_t), intent(in) :: prediction
    integer, intent(out) :: n
    integer(c_int) :: m
    m = 0
    rung_prediction_npoints = c_prediction_npoints(prediction%ptr, m)
    n = m
  end function

  ! energy_eV, Im eps of the IPA and of the RPA (trace), allocated to the prediction's length.
  integer function rung_prediction_spectra(prediction, energy_eV, ipa, rpa)
    type(rung_prediction_t), intent(in) :: prediction
    real(c_double), allocatable, intent(out) :: energy_eV(:), ipa(:), rpa(:)
    integer :: n
    rung_prediction_spectra = rung_prediction_npoints(prediction, n)
    if (rung_prediction_spectra /= RUNG_OK) return
    allocate(energy_eV(n), ipa(n), rpa(n))
    rung_prediction_spectra = c_prediction_spectra(prediction%ptr, energy_eV, ipa, rpa, int(n, c_int))
  end function

  integer function rung_prediction_sc(prediction, sc, sc_spread)
    type(rung_prediction_t), intent(in) :: prediction
    real(c_double), intent(out) :: sc, sc_spread
    rung_prediction_sc = c_prediction_sc(prediction%ptr, sc, sc_spread)
  end function

  ! ---- selection ---------------------------------------------------------------------------
  integer function rung_select(model, cell, positions, numbers, decision, options, comm)
    type(rung_model_t), intent(in) :: model
    real(c_double), intent(in) :: cell(3, 3), positions(:, :)
    integer(c_int), intent(in) :: numbers(:)
    type(rung_decision_t), intent(inout) :: decision
    character(len=*), intent(in), optional :: options
    integer, intent(in), optional :: comm
    real(c_double) :: c(3, 3)
    real(c_double), allocatable :: p(:, :)
    integer(c_int), allocatable :: z(:)
    integer(c_int) :: natoms
    c = cell
    allocate(p, source=positions)
    allocate(z, source=numbers)
    natoms = int(size(numbers), c_int)
    if (size(positions, 1) /= 3 .or. size(positions, 2) /= size(numbers)) then
      if (opt_comm(comm) == RUNG_COMM_NONE) then
        rung_select = shape_error('rung_select', positions, numbers)
        return
      end if
      ! A call with a communicator is collective: every rank enters it, and only rank 0's arrays are used. With
      ! natoms = -1, rank 0 refuses its arrays inside the call (a usage error every rank returns); another rank's
      ! are ignored, as NULL is in C.
      natoms = -1
    end if
    rung_select = c_select(model%ptr, c, natoms, p, z, opt_str(options), opt_comm(comm), decision%ptr)
  end function

  integer function rung_select_save(model, save, decision, options, comm)
    type(rung_model_t), intent(in) :: model
    type(rung_save_t), intent(in) :: save
    type(rung_decision_t), intent(inout) :: decision
    character(len=*), intent(in), optional :: options
    integer, intent(in), optional :: comm
    rung_select_save = c_select_save(model%ptr, save%ptr, opt_str(options), opt_comm(comm), decision%ptr)
  end function

  integer function rung_decide(sc, sc_spread, decision, options)
    real(c_double), intent(in) :: sc, sc_spread
    type(rung_decision_t), intent(inout) :: decision
    character(len=*), intent(in), optional :: options
    rung_decide = c_decide(sc, sc_spread, opt_str(options), decision%ptr)
  end function

  integer function rung_decision_free(decision)
    type(rung_decision_t), intent(inout) :: decision
    rung_decision_free = c_decision_free(decision%ptr)
    decision%ptr = c_null_ptr
  end function

  integer function rung_decision_kind_of(decision, kind)
    type(rung_decision_t), intent(in) :: decision
    integer, intent(out) :: kind
    integer(c_int) :: k
    k = RUNG_UNCERTAIN
    rung_decision_kind_of = c_decision_kind_of(decision%ptr, k)
    kind = k
  end function

  ! cpu_seconds < 0: no cost estimate (no cost model installed, or a rung_decide decision).
  integer function rung_decision_numbers(decision, sc, sc_spread, cpu_seconds)
    type(rung_decision_t), intent(in) :: decision
    real(c_double), intent(out) :: sc, sc_spread, cpu_seconds
    rung_decision_numbers = c_decision_numbers(decision%ptr, sc, sc_spread, cpu_seconds)
  end function

  integer function rung_decision_json(decision, json)
    type(rung_decision_t), intent(in) :: decision
    character(len=:), allocatable, intent(out) :: json
    character(kind=c_char), allocatable, target :: buf(:)
    integer(c_size_t) :: needed
    needed = 0
    ! (a size query first: it is not a failure, so rung_last_status still tells the caller's last one)
    rung_decision_json = c_decision_json(decision%ptr, c_null_ptr, 0_c_size_t, needed)
    if (rung_decision_json /= RUNG_OK) then
      json = ''
      return
    end if
    allocate(buf(needed + 1))
    rung_decision_json = c_decision_json(decision%ptr, c_loc(buf), needed + 1, needed)
    json = from_buf(buf, int(needed))
  end function

  ! "ipa-sufficient", "rpa-needed" or "uncertain" (a convenience for printing; not in the C API).
  function rung_decision_name(kind) result(name)
    integer, intent(in) :: kind
    character(len=:), allocatable :: name
    select case (kind)
    case (RUNG_IPA_SUFFICIENT); name = 'ipa-sufficient'
    case (RUNG_RPA_NEEDED); name = 'rpa-needed'
    case default; name = 'uncertain'
    end select
  end function

  ! ---- native spectra ----------------------------------------------------------------------
  integer function rung_compute_spectrum(save, theory, spectrum, options, comm)
    type(rung_save_t), intent(in) :: save
    character(len=*), intent(in) :: theory
    type(rung_spectrum_t), intent(inout) :: spectrum
    character(len=*), intent(in), optional :: options
    integer, intent(in), optional :: comm
    rung_compute_spectrum = c_compute_spectrum(save%ptr, cstr(theory), opt_str(options), opt_comm(comm), &
                                               spectrum%ptr)
  end function

  integer function rung_spectrum_free(spectrum)
    type(rung_spectrum_t), intent(inout) :: spectrum
    rung_spectrum_free = c_spectrum_free(spectrum%ptr)
    spectrum%ptr = c_null_ptr
  end function

  ! The component rung_spectrum_data returns ("x", "y", "z", "trace", ... as computed): by default the trace where it
  ! was computed, else the first of the options' "directions".
  integer function rung_spectrum_use_component(spectrum, component)
    type(rung_spectrum_t), intent(in) :: spectrum
    character(len=*), intent(in) :: component
    rung_spectrum_use_component = c_spectrum_use_component(spectrum%ptr, cstr(component))
  end function

  integer function rung_spectrum_npoints(spectrum, n)
    type(rung_spectrum_t), intent(in) :: spectrum
    integer, intent(out) :: n
    integer(c_int) :: m
    m = 0
    rung_spectrum_npoints = c_spectrum_npoints(spectrum%ptr, m)
    n = m
  end function

  integer function rung_spectrum_data(spectrum, energy_eV, eps_re, eps_im)
    type(rung_spectrum_t), intent(in) :: spectrum
    real(c_double), allocatable, intent(out) :: energy_eV(:), eps_re(:), eps_im(:)
    integer :: n
    rung_spectrum_data = rung_spectrum_npoints(spectrum, n)
    if (rung_spectrum_data /= RUNG_OK) return
    allocate(energy_eV(n), eps_re(n), eps_im(n))
    rung_spectrum_data = c_spectrum_data(spectrum%ptr, energy_eV, eps_re, eps_im, int(n, c_int))
  end function

  ! The chosen component without local fields (an RPA run's eps_o); RUNG_ERR_USAGE for an IPA spectrum.
  integer function rung_spectrum_data_nolf(spectrum, eps_re, eps_im)
    type(rung_spectrum_t), intent(in) :: spectrum
    real(c_double), allocatable, intent(out) :: eps_re(:), eps_im(:)
    integer :: n
    rung_spectrum_data_nolf = rung_spectrum_npoints(spectrum, n)
    if (rung_spectrum_data_nolf /= RUNG_OK) return
    allocate(eps_re(n), eps_im(n))
    rung_spectrum_data_nolf = c_spectrum_data_nolf(spectrum%ptr, eps_re, eps_im, int(n, c_int))
  end function

  integer function rung_spectrum_write(spectrum, path)
    type(rung_spectrum_t), intent(in) :: spectrum
    character(len=*), intent(in) :: path
    rung_spectrum_write = c_spectrum_write(spectrum%ptr, cstr(path))
  end function

  ! positions(3, nat) and numbers(nat) disagree: a usage error of the caller, recorded with the C API so that
  ! rung_last_error() and rung_last_status() report it as they report every other failure.
  integer function shape_error(what, positions, numbers)
    character(len=*), intent(in) :: what
    real(c_double), intent(in) :: positions(:, :)
    integer(c_int), intent(in) :: numbers(:)
    character(len=256) :: msg
    write (msg, '(a,a,i0,a,i0,a,i0,a)') what, ': positions must be (3, nat) for numbers(nat), got positions(', &
      size(positions, 1), ', ', size(positions, 2), ') and numbers(', size(numbers), ')'
    shape_error = c_report_usage_error(cstr(trim(msg)))
  end function
end module rung
