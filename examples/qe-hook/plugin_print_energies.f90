!
! rung's in-process hook for Quantum ESPRESSO 6.7: a drop-in replacement for PW/src/plugin_print_energies.f90
! (the stock file is an empty plugin stub with the same interface). See doc/c-api.md, "QE plugin".
!
! pw.x calls plugin_print_energies() from print_energies (PW/src/electrons.f90) every time it prints the
! energies; once the SCF has converged (control_flags' conv_elec) this hands the converged structure to
! rung through the Fortran module and prints rung's decision in pw.x's output. It runs once per pw.x run
! (the first converged SCF), on every rank of the image communicator (rung_select is collective and
! returns the same decision everywhere); only the I/O node prints.
!
! Environment: RUNG_MODEL (model folder or sc model file; default: the model installed with rung),
!              RUNG_THRESHOLD (SC threshold, default 0.9), RUNG_HOOK=off to disable.
!
!----------------------------------------------------------------------------
SUBROUTINE plugin_print_energies()
  !----------------------------------------------------------------------------
  !
  ! This routine is used for printing energy contrib from plugins
  ! DO NOT REMOVE THE TAGS ! ***ADDSON_NAME KIND_OF_PATCH***
  !
  USE io_global,        ONLY : stdout, ionode
  USE kinds,            ONLY : DP
  USE io_files,         ONLY : tmp_dir
  !
  USE plugin_flags
  !
  USE control_flags,    ONLY : conv_elec
  USE ions_base,        ONLY : nat, tau, ityp, atm
  USE cell_base,        ONLY : alat, at
  USE mp_images,        ONLY : intra_image_comm
  USE rung,             ONLY : rung_model_t, rung_decision_t, rung_model_load, rung_model_free, &
                               rung_model_untrained, rung_atomic_number, rung_select, rung_decision_kind_of, &
                               rung_decision_numbers, rung_decision_free, rung_decision_name, rung_last_error, &
                               RUNG_OK, RUNG_COMM_NONE
  !
  IMPLICIT NONE
  !
  LOGICAL, SAVE :: done = .FALSE.
  TYPE(rung_model_t) :: model
  TYPE(rung_decision_t) :: decision
  REAL(DP) :: cell(3,3), sc, spread, cpu
  REAL(DP), ALLOCATABLE :: positions(:,:)
  INTEGER, ALLOCATABLE :: numbers(:)
  INTEGER :: st, na, z, kind, comm
  LOGICAL :: untrained
  CHARACTER(LEN=512) :: model_path, threshold, switch
  !
  IF ( done .OR. .NOT. conv_elec ) RETURN
  done = .TRUE.
  CALL get_environment_variable( 'RUNG_HOOK', switch )
  IF ( TRIM(switch) == 'off' ) RETURN
  CALL get_environment_variable( 'RUNG_MODEL', model_path )
  CALL get_environment_variable( 'RUNG_THRESHOLD', threshold )
  IF ( LEN_TRIM(threshold) == 0 ) threshold = '0.9'
  !
  ! QE keeps at(:,i) and tau(:,na) in units of alat; rung takes Bohr in the same column layout.
  cell = at * alat
  ALLOCATE( positions(3, nat), numbers(nat) )
  positions = tau(:, 1:nat) * alat
  DO na = 1, nat
     st = rung_atomic_number( atm(ityp(na)), z )
     IF ( st /= RUNG_OK ) THEN
        IF ( ionode ) WRITE( stdout, '(/5X,"rung: ",A)' ) rung_last_error()
        RETURN
     END IF
     numbers(na) = z
  END DO
  !
  IF ( LEN_TRIM(model_path) > 0 ) THEN
     st = rung_model_load( model, TRIM(model_path) )
  ELSE
     st = rung_model_load( model )
  END IF
  IF ( st /= RUNG_OK ) THEN
     IF ( ionode ) WRITE( stdout, '(/5X,"rung: no model, no decision: ",A)' ) rung_last_error()
     RETURN
  END IF
  ! QE preprocesses its .f90 sources (-x f95-cpp-input): a serial pw.x has no MPI to hand over.
#if defined(__MPI)
  comm = intra_image_comm
#else
  comm = RUNG_COMM_NONE
#endif
  st = rung_select( model, cell, positions, numbers, decision, &
                    options='{"threshold": '//TRIM(threshold)//'}', comm=comm )
  IF ( st == RUNG_OK ) THEN
     st = rung_decision_kind_of( decision, kind )
     st = rung_decision_numbers( decision, sc, spread, cpu )
     st = rung_model_untrained( model, untrained )
     IF ( ionode ) THEN
        WRITE( stdout, '(/5X,"rung: RPA decision: ",A,"  (predicted SC(IPA,RPA) = ",F6.3," +- ",F5.3,")")' ) &
             rung_decision_name(kind), sc, spread
        IF ( cpu >= 0 ) WRITE( stdout, '(5X,"rung: estimated RPA cost ",ES9.2," CPU-h")' ) cpu / 3600
        IF ( untrained ) WRITE( stdout, '(5X,"rung: the model is UNTRAINED (random weights): ignore this decision")' )
     END IF
     st = rung_decision_free( decision )
  ELSE
     IF ( ionode ) WRITE( stdout, '(/5X,"rung: ",A)' ) rung_last_error()
  END IF
  st = rung_model_free( model )
  !
END SUBROUTINE plugin_print_energies
