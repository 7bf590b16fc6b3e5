! Fits y = sin(x1) + x2 / 2 with a 2-16:tanh-1 network from Fortran.  Samples are the columns
! of x(features, rows): the memory layout of the C library's rows x features tensors.
program fortran_example
  use, intrinsic :: iso_c_binding
  use nablas
  implicit none
  integer, parameter :: n = 256
  real(c_float) :: x(2, n), t(1, n), y(1, n)
  real(c_double) :: loss
  type(nb_net) :: net
  integer :: i, st

  do i = 1, n
    x(:, i) = [6.0 * (i - 1) / (n - 1) - 3.0, cos(0.1 * i)]
    t(1, i) = sin(x(1, i)) + 0.5 * x(2, i)
  end do
  st = nb_create(net, 2, [16, 1], [NB_ACT_TANH, NB_ACT_IDENTITY], seed=42)
  if (st == NB_OK) st = nb_train(net, x, t, epochs=300, batch_size=16, lr=0.05, final_loss=loss)
  if (st == NB_OK) st = nb_predict(net, x, y)
  if (st == NB_OK) st = nb_save(net, 'fortran_example.nbm')
  if (st /= NB_OK) then
    print '(2a)', 'nablas: ', nb_message(st)
    error stop 1
  end if
  print '(a, f8.5, a, f8.5)', 'training MSE', loss, '   max |y - t|', maxval(abs(y - t))
  call nb_free(net)
  if (maxval(abs(y - t)) > 0.2) error stop 2
end program
