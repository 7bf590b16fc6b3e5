! Predicts with a classifier that `nablas train` made (argument 1: the model file) as
! `nablas predict` does: probabilities, classes and their names, from real(8) data, no copies.
program fortran_predict
  use, intrinsic :: iso_c_binding
  use nablas
  implicit none
  type(nb_model) :: model
  type(nb_predictor) :: pred
  real(c_double) :: x(2, 3), p(3, 3)  ! columns are samples: x(inputs, rows), p(classes, rows)
  integer :: cls(3), r, st
  character(len=4096) :: path

  call get_command_argument(1, path)
  x = reshape([0d0, 0d0, 4d0, 1d0, 1d0, 4d0], [2, 3])
  st = nb_model_load(model, trim(path))  ! the network, standardisation, loss, class names
  if (st == NB_OK) st = nb_predictor_create(pred, model)
  if (st == NB_OK) st = nb_predictor_run(pred, x, p)        ! softmax: each column sums to 1
  if (st == NB_OK) st = nb_predictor_classes(pred, x, cls)  ! 1-based
  if (st /= NB_OK) then
    print '(2a)', 'nablas: ', nb_message(st)
    error stop 1
  end if
  do r = 1, 3
    print '(a, 2f5.1, 3a, 3f6.3)', 'x =', x(:, r), '  class ', nb_class_name(model, cls(r)), &
      '  p =', p(:, r)
  end do
  call nb_predictor_free(pred)
  call nb_model_free(model)
end program
