! The Fortran predictor (type(nb_model), type(nb_predictor)): real(4) and real(8) answers
! against the C library's for the same files (a regression model with both standardisations,
! a classifier trained here by `nablas train` on a small CSV), probabilities, 1-based classes,
! class names, and error statuses.  Argument 1: the nablas program.
program test_predictor
  use, intrinsic :: iso_c_binding
  use nablas
  implicit none
  interface
    integer(c_int) function make_model(path, x, rows, y) bind(C, name='nbf_test_make_model')
      import :: c_int, c_char, c_float, c_size_t
      character(kind=c_char), intent(in) :: path(*)
      real(c_float), intent(in) :: x(*)
      integer(c_size_t), value :: rows
      real(c_float), intent(out) :: y(*)
    end function
    integer(c_int) function c_answer(path, x, rows, inputs, y, outputs, classes) &
        bind(C, name='nbf_test_predict_file')
      import :: c_int, c_char, c_float, c_size_t
      character(kind=c_char), intent(in) :: path(*)
      real(c_float), intent(in) :: x(*)
      integer(c_size_t), value :: rows, inputs, outputs
      real(c_float), intent(out) :: y(*)
      integer(c_int), intent(out) :: classes(*)
    end function
  end interface
  integer :: failures = 0
  call regression()
  call classifier()
  call errors()
  call derivatives_r8()
  if (failures > 0) then
    print '(i0, a)', failures, ' check(s) failed'
    error stop 1
  end if
  print '(a)', 'fortran predictor: all checks passed'

contains

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

  logical function same_bits(a, b)
    real(c_float), intent(in) :: a(:, :), b(:, :)
    same_bits = all(shape(a) == shape(b))
    if (same_bits) same_bits = all(transfer(a, [0_c_int32_t]) == transfer(b, [0_c_int32_t]))
  end function

  ! a(:, :) widened to real(8), bit for bit
  logical function same_widened(a, b)
    real(c_float), intent(in) :: a(:, :)
    real(c_double), intent(in) :: b(:, :)
    same_widened = all(shape(a) == shape(b))
    if (same_widened) same_widened = all(transfer(real(a, c_double), [0_c_int64_t]) == &
                                         transfer(b, [0_c_int64_t]))
  end function

  function cstr(s) result(c)
    character(len=*), intent(in) :: s
    character(kind=c_char, len=len(s) + 1) :: c
    c = s // c_null_char
  end function

  ! A 3-4:tanh-2 model with both standardisations, saved by C with C's answers: Fortran's
  ! predictor gives them in the targets' units, in chunks of 2 rows, as real(4) and real(8).
  subroutine regression()
    type(nb_model) :: model
    type(nb_predictor) :: pred
    real(c_float), target :: x(3, 7), y(2, 7), ref(2, 7)
    real(c_double) :: x8(3, 7), y8(2, 7)
    integer :: r, i, classes(7)
    do r = 1, 7
      do i = 1, 3
        x(i, r) = real(i, c_float) * 1.3 - real(r, c_float) * 0.7
      end do
    end do
    call check(make_model(cstr('pred_reg.nbm'), x, 7_c_size_t, ref) == NB_OK, 'C saves a model')
    call check(nb_model_load(model, 'pred_reg.nbm') == NB_OK, 'nb_model_load')
    call check(model%inputs == 3 .and. model%outputs == 2 .and. model%classes == 0 .and. &
               model%loss == NB_LOSS_MSE, 'model widths, no classes, loss mse')
    call check(nb_predictor_create(pred, model, max_batch=2) == NB_OK, 'nb_predictor_create')
    call check(nb_predictor_run(pred, x, y) == NB_OK, 'nb_predictor_run real(4)')
    call check(same_bits(y, ref), 'real(4) == C (target standardisation undone)')
    call check(abs(sum(y(1, :)) / 7 - 100) < 40, 'output 1 in the targets units (mean 100)')
    x8 = real(x, c_double)
    y8 = -1
    call check(nb_predictor_run(pred, x8, y8) == NB_OK, 'nb_predictor_run real(8)')
    call check(same_widened(y, y8), 'real(8) == real(4) widened, bit for bit')
    y8 = -1
    call check(nb_predictor_run(pred, x8(:, 3:5), y8(:, 1:3)) == NB_OK, 'a section of columns')
    call check(same_widened(y(:, 3:5), y8(:, 1:3)) .and. all(abs(y8(:, 4:) + 1) < 1d-300), &
               'sections: columns 3..5, nothing else written')
    classes = -7
    call check(nb_predictor_classes(pred, x, classes) == NB_ERR_STATE, 'no classes for regression')
    call check(all(classes == -7), 'classes untouched')
    call check(nb_class_name(model, 1) == '', 'no class names')
    call nb_predictor_free(pred)
    call nb_predictor_free(pred)  ! twice is safe
    call nb_model_free(model)
    call nb_model_free(model)
  end subroutine

  ! Three clusters in two features, labels red/green/blue, trained by `nablas train`; the
  ! predictor gives C's probabilities and classes, columns sum to 1, names by 1-based class.
  subroutine classifier()
    character(len=4096) :: nablas_cmd
    character(len=5), parameter :: names(3) = ['red  ', 'green', 'blue ']
    integer, parameter :: n = 300
    type(nb_model) :: model
    type(nb_predictor) :: pred
    real(c_float), target :: x(2, n), p(3, n), ref(3, n)
    real(c_double) :: x8(2, n), p8(3, n)
    integer :: label(n), cls(n), cls8(n)
    integer(c_int) :: cref(n)
    integer :: r, k, u, stat, right
    real :: centre(2, 3)
    centre = reshape([0., 0., 4., 1., 1., 4.], [2, 3])
    do r = 1, n
      label(r) = mod(r * 7, 3) + 1
      x(1, r) = centre(1, label(r)) + 0.8 * sin(real(r) * 1.7)
      x(2, r) = centre(2, label(r)) + 0.8 * cos(real(r) * 2.3)
    end do
    open (newunit=u, file='pred_cls.csv', status='replace', action='write')
    write (u, '(a)') 'a,b,colour'
    do r = 1, n
      write (u, '(g0, a, g0, 2a)') x(1, r), ',', x(2, r), ',', trim(names(label(r)))
    end do
    close (u)
    call get_command_argument(1, nablas_cmd)
    call check(len_trim(nablas_cmd) > 0, 'the nablas program is argument 1')
    call execute_command_line(trim(nablas_cmd) // ' train --data pred_cls.csv ' // &
      '--label-column colour --layers 16:tanh,3 --standardize --epochs 40 --seed 1 ' // &
      '--out pred_cls.nbm > pred_cls.log 2>&1', exitstat=stat)
    call check(stat == 0, 'nablas train on the CSV')
    call check(nb_model_load(model, 'pred_cls.nbm') == NB_OK, 'nb_model_load classifier')
    call check(model%classes == 3 .and. model%loss == NB_LOSS_SOFTMAX_CE, '3 classes, softmax-ce')
    ! names come in byte order: blue, green, red
    call check(nb_class_name(model, 1) == 'blue', 'class 1 is blue')
    call check(nb_class_name(model, 2) == 'green', 'class 2 is green')
    call check(nb_class_name(model, 3) == 'red', 'class 3 is red')
    call check(nb_class_name(model, 0) == '', 'no class 0')
    call check(nb_class_name(model, 4) == '', 'no class 4')
    call check(nb_predictor_create(pred, model, max_batch=64) == NB_OK, 'predictor')
    call check(nb_predictor_run(pred, x, p) == NB_OK, 'probabilities real(4)')
    call check(c_answer(cstr('pred_cls.nbm'), x, int(n, c_size_t), 2_c_size_t, ref, 3_c_size_t, &
                        cref) == NB_OK, 'C answers for the same file')
    call check(same_bits(p, ref), 'probabilities == C')
    call check(maxval(abs(sum(real(p, c_double), dim=1) - 1)) < 1e-5, 'each column sums to 1')
    call check(all(p >= 0 .and. p <= 1), 'probabilities in [0, 1]')
    x8 = real(x, c_double)
    call check(nb_predictor_run(pred, x8, p8) == NB_OK, 'probabilities real(8)')
    call check(same_widened(p, p8), 'real(8) == real(4) widened')
    call check(nb_predictor_classes(pred, x, cls) == NB_OK, 'classes real(4)')
    call check(nb_predictor_classes(pred, x8, cls8) == NB_OK, 'classes real(8)')
    call check(all(cls == cref) .and. all(cls8 == cref), 'classes == C, 1-based')
    call check(all(cls == maxloc(p, dim=1)), 'class = the most probable')
    right = 0
    do r = 1, n
      if (nb_class_name(model, cls(r)) == trim(names(label(r)))) right = right + 1
    end do
    print '(a, i0, a, i0)', '      named right: ', right, ' of ', n
    call check(right >= n * 9 / 10, 'at least 90% of the rows get their own colour')
    call check(minval(cls) == 1 .and. maxval(cls) == 3, 'all three classes predicted')
    k = nb_predictor_classes(pred, x(:, 1:0), cls(1:0))
    call check(k == NB_OK, 'no rows')
    call nb_predictor_free(pred)
    call nb_model_free(model)
  end subroutine

  ! nb_jacobian, nb_jvp and nb_vjp on real(8) arrays: the real(4) results widened, bit for bit.
  subroutine derivatives_r8()
    type(nb_net) :: net
    type(nb_deriv) :: ctx
    real(c_float) :: x(3, 5), v(3, 5), u(2, 5), j(2, 3, 5), y(2, 5), jv(2, 5), uj(3, 5)
    real(c_double) :: x8(3, 5), v8(3, 5), u8(2, 5), j8(2, 3, 5), y8(2, 5), jv8(2, 5), uj8(3, 5)
    integer :: r, i
    do r = 1, 5
      do i = 1, 3
        x(i, r) = real(i, c_float) * 0.9 - real(r, c_float) * 0.6
        v(i, r) = real(mod(i * r, 4), c_float) - 1.5
      end do
      u(:, r) = [real(r, c_float) * 0.5, 1.0 - r]
    end do
    x8 = real(x, c_double)
    v8 = real(v, c_double)
    u8 = real(u, c_double)
    call check(nb_load(net, 'pred_reg.nbm') == NB_OK, 'nb_load for derivatives')
    call check(nb_deriv_create(ctx, net, 2) == NB_OK, 'nb_deriv_create, chunks of 2 rows')
    call check(nb_jacobian(ctx, x, j, y) == NB_OK, 'nb_jacobian real(4)')
    call check(nb_jacobian(ctx, x8, j8, y8) == NB_OK, 'nb_jacobian real(8)')
    call check(same_widened(reshape(j, [6, 5]), reshape(j8, [6, 5])), 'jacobian real(8) == real(4)')
    call check(same_widened(y, y8), 'outputs real(8) == real(4)')
    call check(maxval(abs(j8)) > 0, 'a nonzero Jacobian')
    call check(nb_jvp(ctx, x, v, jv) == NB_OK, 'nb_jvp real(4)')
    call check(nb_jvp(ctx, x8, v8, jv8) == NB_OK, 'nb_jvp real(8)')
    call check(same_widened(jv, jv8), 'jvp real(8) == real(4)')
    call check(nb_vjp(ctx, x, u, uj) == NB_OK, 'nb_vjp real(4)')
    call check(nb_vjp(ctx, x8, u8, uj8) == NB_OK, 'nb_vjp real(8)')
    call check(same_widened(uj, uj8), 'vjp real(8) == real(4)')
    call check(nb_jvp(ctx, x8, v8(1:2, :), jv8) == NB_ERR_SHAPE, 'jvp: v of the wrong width')
    call check(nb_vjp(ctx, x8, u8, uj8(:, 1:4)) == NB_ERR_SHAPE, 'vjp: uj of the wrong rows')
    x8(2, 5) = 1d300
    call check(nb_jacobian(ctx, x8, j8) == NB_ERR_NONFINITE, 'beyond real(4): NB_ERR_NONFINITE')
    call nb_deriv_free(ctx)
    call check(nb_jacobian(ctx, x8, j8) == NB_ERR_NULL, 'freed context: NB_ERR_NULL')
    call nb_free(net)
  end subroutine

  subroutine errors()
    type(nb_model) :: model
    type(nb_predictor) :: pred
    real(c_float) :: x(3, 4), y(2, 4), bad(2, 5)
    real(c_double) :: x8(3, 4), y8(2, 4)
    integer :: cls(3)
    x = 1
    x8 = 1
    call check(nb_model_load(model, 'no-such-file.nbm') == NB_ERR_IO, 'missing file: NB_ERR_IO')
    call check(.not. c_associated(model%m), 'model unchanged')
    call check(nb_predictor_create(pred, model) == NB_ERR_NULL, 'no model: NB_ERR_NULL')
    y = 5
    call check(nb_predictor_run(pred, x, y) == NB_ERR_NULL, 'no predictor: NB_ERR_NULL')
    call check(nb_model_load(model, 'pred_reg.nbm') == NB_OK, 'load')
    call check(nb_predictor_create(pred, model, max_batch=0) == NB_ERR_SHAPE, 'max_batch 0')
    call check(nb_predictor_create(pred, model) == NB_OK, 'create')
    call check(nb_predictor_run(pred, x(1:2, :), y) == NB_ERR_SHAPE, 'inputs != 3')
    call check(nb_predictor_run(pred, x, bad) == NB_ERR_SHAPE, 'y wrong shape')
    y8 = 5
    call check(nb_predictor_run(pred, x8, y8(:, 1:3)) == NB_ERR_SHAPE, 'rows differ (real(8))')
    call check(nb_predictor_classes(pred, x, cls) == NB_ERR_SHAPE, 'classes size != rows')
    call check(all(abs(y - 5) < 1e-30) .and. all(abs(y8 - 5) < 1d-300), &
               'outputs untouched on failure')
    call check(nb_message(NB_ERR_SHAPE) /= '', 'status text')
    call nb_predictor_free(pred)
    call nb_model_free(model)
  end subroutine
end program
