! The Fortran binding: array layout (x(features, rows) is the C rows x features tensor, no
! transposition), a network's predictions against a forward pass written here from its
! parameters, training XOR to the right answers, save/load, and error statuses.
program test_fortran
  use, intrinsic :: iso_c_binding
  use nablas
  implicit none
  integer :: failures = 0
  call layout_and_forward()
  call newer_activations()
  call train_xor_save_load()
  call standardised_model()
  call errors()
  call derivatives()
  call onnx_files()
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

  ! The constants of the newer activations: a 3-4:gelu-4:elu-2:softplus network predicts as
  ! the forward pass written here (erfc, exp and log are Fortran intrinsics).
  subroutine newer_activations()
    type(nb_net) :: net
    real(c_float), target :: x(3, 5), y(2, 5)
    real(c_float), pointer :: w1(:, :), b1(:), w2(:, :), b2(:), w3(:, :), b3(:)
    real(c_double) :: z1(4), h1(4), z2(4), h2(4), z3(2), ref(2, 5)
    integer :: r, i
    call check(nb_create(net, 3, [4, 4, 2], [NB_ACT_GELU, NB_ACT_ELU, NB_ACT_SOFTPLUS], &
                         seed=3) == NB_OK, 'nb_create 3-4:gelu-4:elu-2:softplus')
    call check(nb_create(net, 3, [4, 2], [NB_ACT_GELU_TANH, NB_ACT_SILU], seed=3) == NB_OK, &
               'nb_create 3-4:gelu_tanh-2:silu')
    call check(nb_create(net, 3, [4, 2], [NB_ACT_ELU + 1, NB_ACT_IDENTITY]) /= NB_OK, &
               'no activation after NB_ACT_ELU')
    call check(nb_create(net, 3, [4, 4, 2], [NB_ACT_GELU, NB_ACT_ELU, NB_ACT_SOFTPLUS], &
                         seed=3) == NB_OK, 'nb_create again')
    do r = 1, 5
      do i = 1, 3
        x(i, r) = real(i, c_float) * 0.7 - real(r, c_float) * 0.4
      end do
    end do
    call check(nb_layer_params(net, 1, w1, b1) == NB_OK, 'layer 1 parameters')
    call check(nb_layer_params(net, 2, w2, b2) == NB_OK, 'layer 2 parameters')
    call check(nb_layer_params(net, 3, w3, b3) == NB_OK, 'layer 3 parameters')
    do r = 1, 5
      z1 = matmul(real(w1, c_double), real(x(:, r), c_double)) + b1
      h1 = 0.5d0 * z1 * erfc(-z1 / sqrt(2d0))
      z2 = matmul(real(w2, c_double), h1) + b2
      h2 = merge(z2, exp(z2) - 1d0, z2 > 0d0)
      z3 = matmul(real(w3, c_double), h2) + b3
      ref(:, r) = log(1d0 + exp(z3))
    end do
    call check(nb_predict(net, x, y) == NB_OK, 'nb_predict')
    print '(a, es10.3)', '      max |nablas - Fortran forward| = ', maxval(abs(y - ref))
    call check(maxval(abs(y - ref)) <= 1e-5, 'gelu, elu, softplus == the Fortran forward pass')
    call nb_free(net)
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

  ! A model file with input and target standardisation made by C (test_helper.c): Fortran's
  ! predictions equal C's, in the targets' units; saving keeps both standardisations.
  subroutine standardised_model()
    interface
      integer(c_int) function make_model(path, x, rows, y) bind(C, name='nbf_test_make_model')
        import :: c_int, c_char, c_float, c_size_t
        character(kind=c_char), intent(in) :: path(*)
        real(c_float), intent(in) :: x(*)
        integer(c_size_t), value :: rows
        real(c_float), intent(out) :: y(*)
      end function
    end interface
    type(nb_net) :: net, again
    real(c_float), target :: x(3, 6), yc(2, 6), yf(2, 6), y2(2, 6), t(2, 6)
    real(c_double) :: loss
    real :: before, after, spread(2, 6)
    integer :: r
    spread(1, :) = 10
    spread(2, :) = 0.1
    do r = 1, 6
      x(:, r) = [1.0 + 0.7 * r, 2.0 - 0.2 * r, 3.0 + real(mod(r, 3))]
    end do
    call check(make_model('std.nbm' // c_null_char, x, 6_c_size_t, yc) == NB_OK, &
               'C saved a model with both standardisations')
    call check(nb_load(net, 'std.nbm') == NB_OK, 'nb_load it')
    call check(nb_predict(net, x, yf) == NB_OK, 'nb_predict')
    print '(a, es10.3)', '      max |Fortran - C| / |C| = ', maxval(abs(yf - yc) / abs(yc))
    call check(maxval(abs(yf - yc) / abs(yc)) <= 1e-6, 'Fortran == C predictions, targets'' units')
    call check(abs(yc(1, 1) - 100) < 30 .and. abs(yc(2, 1) + 5) < 1, 'C answers near the target means')
    call check(nb_save(net, 'std2.nbm') == NB_OK, 'nb_save')
    call check(nb_load(again, 'std2.nbm') == NB_OK, 'nb_load again')
    call check(nb_predict(again, x, y2) == NB_OK, 'nb_predict again')
    call check(same_bits(y2, yf), 'saved and reloaded: the same predictions')
    t = yc + 1.0  ! train towards a shifted target in its own units
    call check(nb_train(again, x, t, epochs=200, batch_size=6, lr=0.05, final_loss=loss) == NB_OK, &
               'nb_train with both standardisations')
    call check(nb_predict(again, x, y2) == NB_OK, 'nb_predict after training')
    ! in standardised units (target std 10 and 0.1): the mean squared error fell
    before = sum(((yf - t) / spread)**2) / size(t)
    after = sum(((y2 - t) / spread)**2) / size(t)
    print '(a, 2es10.3, a, es10.3)', '      standardised MSE before/after: ', before, after, &
      '   nb_train''s last loss ', loss
    call check(after < 0.01 * before, 'training moved the outputs towards t')
    call check(abs(after - loss) < 0.5 * loss, 'nb_train''s loss is in standardised units')
    call nb_free(again)
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
    call check(nb_num_inputs(net) == 3, 'a failed load leaves the network as it was')
    call check(nb_create(net, 5, [1], [NB_ACT_IDENTITY]) == NB_OK, 'nb_create over a network frees it')
    call check(nb_num_inputs(net) == 5, 'the new network replaced it')
    msg = nb_message(NB_ERR_IO)
    call check(len(msg) > 5, 'nb_message: ' // msg)
    call check(msg /= nb_message(NB_OK), 'nb_message differs per status')
    print '(2a)', '      nb_message(NB_ERR_SHAPE) = ', nb_message(NB_ERR_SHAPE)
    call nb_free(net)
  end subroutine

  ! nb_jacobian, nb_jvp and nb_vjp on a 3-5:tanh-2 network against J = W2 diag(1 - h^2) W1
  ! written here in double, with w(out, in) from nb_layer_params; both modes; a wrong shape.
  subroutine derivatives()
    type(nb_net) :: net
    type(nb_deriv) :: ctx
    real(c_float), target :: x(3, 4), j(2, 3, 4), v(3, 4), jv(2, 4), u(2, 4), uj(3, 4), &
      y(2, 4), yp(2, 4), jbad(3, 2, 4)
    real(c_float), pointer :: w1(:, :), b1(:), w2(:, :), b2(:)
    double precision :: h(5), ref(2, 3), err, scale
    integer :: r, k, mode
    call check(nb_create(net, 3, [5, 2], [NB_ACT_TANH, NB_ACT_IDENTITY], seed=3) == NB_OK, &
               'nb_create 3-5:tanh-2')
    call check(nb_layer_params(net, 1, w1, b1) == NB_OK, 'layer 1 parameters')
    call check(nb_layer_params(net, 2, w2, b2) == NB_OK, 'layer 2 parameters')
    b1 = [0.1, -0.2, 0.3, -0.1, 0.05]
    do r = 1, 4
      do k = 1, 3
        x(k, r) = real(k, c_float) * 0.4 - real(r, c_float) * 0.25
        v(k, r) = real(k - r, c_float) * 0.5
      end do
      u(:, r) = [1.0, -0.5 * r]
    end do
    do mode = NB_DERIV_AUTO, NB_DERIV_REVERSE
      call check(nb_deriv_create(ctx, net, 2, mode=mode) == NB_OK, 'nb_deriv_create')
      call check(nb_jacobian(ctx, x, j, y) == NB_OK, 'nb_jacobian')
      call check(nb_jvp(ctx, x, v, jv) == NB_OK, 'nb_jvp')
      call check(nb_vjp(ctx, x, u, uj) == NB_OK, 'nb_vjp')
      call check(nb_predict(net, x, yp) == NB_OK, 'nb_predict')
      call check(maxval(abs(y - yp)) <= 1e-5, 'nb_jacobian outputs = nb_predict')
      err = 0
      scale = 0
      do r = 1, 4
        h = tanh(matmul(dble(w1), dble(x(:, r))) + dble(b1))
        do k = 1, 3
          ref(:, k) = matmul(dble(w2), (1 - h**2) * dble(w1(:, k)))
        end do
        scale = max(scale, maxval(abs(ref)))
        err = max(err, maxval(abs(j(:, :, r) - ref)))
        err = max(err, maxval(abs(jv(:, r) - matmul(ref, dble(v(:, r))))))
        err = max(err, maxval(abs(uj(:, r) - matmul(dble(u(:, r)), ref))))
      end do
      call check(err <= 1e-5 * scale, 'j(:, :, r), J v and u^T J = W2 diag(1 - h^2) W1')
    end do
    call check(nb_jacobian(ctx, x, jbad) == NB_ERR_SHAPE, 'nb_jacobian: wrong shape')
    call check(nb_jvp(ctx, x, u, jv) == NB_ERR_SHAPE, 'nb_jvp: wrong shape')
    call check(nb_deriv_create(ctx, net, 0) == NB_ERR_SHAPE, 'nb_deriv_create: max_batch 0')
    call check(nb_deriv_create(ctx, net, 4, probabilities=.true., mode=7) == NB_ERR_ARG, &
               'nb_deriv_create: bad mode')
    call nb_deriv_free(ctx)
    call nb_deriv_free(ctx)
    call nb_free(net)
  end subroutine

  ! ONNX (only with the onnx feature): the standardised model from C saved as ONNX and loaded
  ! back predicts bit-identically; a missing file and a non-ONNX file fail cleanly.  Without
  ! the feature, both calls say NB_ERR_UNSUPPORTED.
  subroutine onnx_files()
    type(nb_net) :: net, back
    real(c_float), target :: x(3, 6), y(2, 6), y2(2, 6)
    integer :: r
    if (.not. nb_has_onnx()) then
      call check(nb_load_onnx(back, 'std.onnx') == NB_ERR_UNSUPPORTED, &
                 'no ONNX in this build: nb_load_onnx says NB_ERR_UNSUPPORTED')
      return
    end if
    do r = 1, 6
      x(:, r) = [1.0 + 0.7 * r, 2.0 - 0.2 * r, 3.0 + real(mod(r, 3))]
    end do
    call check(nb_load(net, 'std.nbm') == NB_OK, 'nb_load the standardised model')
    call check(nb_predict(net, x, y) == NB_OK, 'nb_predict it')
    call check(nb_save_onnx(net, 'std.onnx') == NB_OK, 'nb_save_onnx')
    call check(nb_load_onnx(back, 'std.onnx') == NB_OK, 'nb_load_onnx')
    call check(nb_num_inputs(back) == 3, 'ONNX: the same inputs')
    call check(nb_num_outputs(back) == 2, 'ONNX: the same outputs')
    call check(nb_predict(back, x, y2) == NB_OK, 'nb_predict the ONNX model')
    call check(same_bits(y2, y), 'ONNX round trip: the same predictions, standardisations kept')
    call check(nb_load_onnx(back, 'does/not/exist.onnx') == NB_ERR_IO, 'ONNX: missing file')
    call check(nb_load_onnx(back, 'std.nbm') /= NB_OK, 'ONNX: a model file is not ONNX')
    call check(nb_num_inputs(back) == 3, 'a failed ONNX load leaves the network as it was')
    call nb_free(back)
    call nb_free(net)
  end subroutine
end program
