! The Fortran binding: array layout (x(features, rows) is the C rows x features tensor, no
! transposition), a network's predictions against a forward pass written here from its
! parameters, training XOR to the right answers, save/load, and error statuses.
program test_fortran
  use, intrinsic :: iso_c_binding
  use nablas
  implicit none
  integer :: failures = 0
  call layout_and_forward()
  call train_xor_save_load()
  call errors()
  if (failures > 0) then
    print '(i0, a)', failures, ' check(s) failed'
    error stop 1
  end if
  print '(a)', 'fortran binding: all checks passed'

contains

  logical function same_bits(a, b)
    real(c_float), intent(in) :: a(:, :), b(:, :)
    same_bits = all(shape(a) == shape(b))
    if (same_bits) same_bits = all(transfer(a, [0_c_int32_t]) == transfer(b, [0_c_int32_t]))
  end function

  subroutine check(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    if (ok) then
      print '(2a)', 'ok    ', what
    else
      print '(2a)', 'FAIL  ', what
      failures = failures + 1
    end if
  end subroutine

  ! 3 features, 5 rows, a 3-4:tanh-2 network: nb_predict == tanh(w1 x + b1) then w2 h + b2
  ! computed here column by column, with w(out, in) from nb_layer_params.
  subroutine layout_and_forward()
    type(nb_net) :: net
    real(c_float), target :: x(3, 5), y(2, 5), ysec(2, 3)
    real(c_float), pointer :: w1(:, :), b1(:), w2(:, :), b2(:)
    real :: h(4), ref(2, 5)
    integer :: r, i
    call check(nb_create(net, 3, [4, 2], [NB_ACT_TANH, NB_ACT_IDENTITY], seed=7) == NB_OK, &
               'nb_create 3-4:tanh-2')
    call check(nb_num_inputs(net) == 3, 'inputs')
    call check(nb_num_outputs(net) == 2, 'outputs')
    call check(nb_num_layers(net) == 2, 'layers')
    do r = 1, 5
      do i = 1, 3
        x(i, r) = real(i, c_float) * 0.5 - real(r, c_float) * 0.3  ! different per row
      end do
    end do
    call check(nb_layer_params(net, 1, w1, b1) == NB_OK, 'layer 1 parameters')
    call check(nb_layer_params(net, 2, w2, b2) == NB_OK, 'layer 2 parameters')
    call check(all(shape(w1) == [4, 3]) .and. all(shape(w2) == [2, 4]) .and. size(b1) == 4, &
               'w(out, in) shapes')
    b1 = [0.1, -0.2, 0.3, -0.4]  ! nonzero biases, written through the pointers
    b2 = [0.5, -0.5]
    do r = 1, 5
      h = tanh(matmul(w1, x(:, r)) + b1)
      ref(:, r) = matmul(w2, h) + b2
    end do
    call check(nb_predict(net, x, y) == NB_OK, 'nb_predict')
    print '(a, es10.3)', '      max |nablas - Fortran forward| = ', maxval(abs(y - ref))
    call check(maxval(abs(y - ref)) <= 1e-5, 'predictions == the forward pass written in Fortran')
    call check(maxval(abs(y(:, 1) - y(:, 2))) > 1e-3, 'rows differ (not one row repeated)')
    ! a contiguous section of rows, x(:, 2:4), is rows 2..4
    call check(nb_predict(net, x(:, 2:4), ysec) == NB_OK, 'nb_predict on x(:, 2:4)')
    call check(same_bits(ysec, y(:, 2:4)), 'section predictions == the same rows of the whole')
    call nb_free(net)
    call nb_free(net)  ! twice is safe
  end subroutine

  subroutine train_xor_save_load()
    type(nb_net) :: net, back
    real(c_float), target :: x(2, 4), t(1, 4), y(1, 4), y2(1, 4)
    real(c_double) :: loss
    integer :: l
    x = reshape([0., 0., 0., 1., 1., 0., 1., 1.], [2, 4])  ! columns are the 4 samples
    t = reshape([0., 1., 1., 0.], [1, 4])
    call check(nb_create(net, 2, [8, 1], [NB_ACT_TANH, NB_ACT_SIGMOID], seed=1) == NB_OK, &
               'nb_create 2-8:tanh-1:sigmoid')
    call check(nb_train(net, x, t, loss=NB_LOSS_BCE, epochs=2000, batch_size=4, lr=0.5, &
                        final_loss=loss) == NB_OK, 'nb_train XOR')
    print '(a, es10.3)', '      final BCE loss = ', loss
    call check(nb_predict(net, x, y) == NB_OK, 'nb_predict XOR')
    print '(a, 4f8.4)', '      XOR outputs = ', y
    call check(all(abs(y - t) < 0.1), 'XOR learned: every output within 0.1 of its target')
    ! the defaults alone run too (10 epochs of MSE)
    call check(nb_train(net, x, t) == NB_OK, 'nb_train with default options')
    call check(nb_predict(net, x, y) == NB_OK, 'predict after more training')
    call check(nb_save(net, 'xor.nbm', NB_LOSS_BCE) == NB_OK, 'nb_save')
    call check(nb_load(back, 'xor.nbm') == NB_OK, 'nb_load')
    call check(back%loss == NB_LOSS_BCE, 'the loss comes back')
    call check(nb_predict(back, x, y2) == NB_OK, 'nb_predict loaded')
    call check(same_bits(y2, y), 'loaded model predicts bit-identically')
    l = nb_save(back, 'xor2.nbm')
    call check(l == NB_OK, 'nb_save with the loaded loss')
    call nb_free(back)
    call nb_free(net)
  end subroutine

  subroutine errors()
    type(nb_net) :: net
    real(c_float), target :: x(3, 4), y(2, 4), ybad(2, 3), xbad(4, 4), t(2, 4)
    character(len=:), allocatable :: msg
    x = 0.5
    t = 0
    call check(nb_create(net, 3, [2], [NB_ACT_IDENTITY, NB_ACT_RELU]) == NB_ERR_ARG, &
               'units and acts of different lengths')
    call check(nb_create(net, 3, [0], [NB_ACT_IDENTITY]) == NB_ERR_ARG, 'zero units')
    call check(nb_create(net, 3, [2], [99]) == NB_ERR_ARG, 'unknown activation')
    call check(nb_create(net, 3, [2], [NB_ACT_IDENTITY]) == NB_OK, 'nb_create 3-2')
    call check(nb_predict(net, x, ybad) == NB_ERR_SHAPE, 'rows of y differ')
    call check(nb_predict(net, xbad, y) == NB_ERR_SHAPE, 'features of x differ')
    call check(nb_train(net, x, t, lr=-1.0) == NB_ERR_ARG, 'negative lr')
    call check(nb_train(net, x, t, epochs=0) == NB_ERR_ARG, 'zero epochs')
    call check(nb_train(net, x, t, loss=NB_LOSS_SOFTMAX_CE, epochs=1) == NB_OK, &
               'softmax-ce on identity outputs')
    call check(nb_load(net, 'does/not/exist.nbm') == NB_ERR_IO, 'missing file')
    msg = nb_message(NB_ERR_IO)
    call check(len(msg) > 5, 'nb_message: ' // msg)
    call check(msg /= nb_message(NB_OK), 'nb_message differs per status')
    print '(2a)', '      nb_message(NB_ERR_SHAPE) = ', nb_message(NB_ERR_SHAPE)
    call nb_free(net)
  end subroutine
end program
