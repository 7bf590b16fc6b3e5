! nablas for Fortran: create, free, load, save, predict and train dense networks through the C
! library (iso_c_binding; no copies of the data).
!
! Arrays.  nablas works on row-major rows x features matrices.  A Fortran array x(features, rows)
! is column-major, so its memory is exactly that matrix: each column of x is one row (sample)
! of the C tensor.  Pass inputs as x(n_inputs, n_rows), targets as t(n_outputs, n_rows), and
! receive predictions in y(n_outputs, n_rows): nothing is transposed or copied.  The arrays
! must be contiguous (whole arrays, or contiguous sections such as x(:, 1:10)).
!
! Every function returns an integer status: NB_OK (0) or one of the NB_ERR_* codes below;
! nb_message(status) gives its text.  A network is a type(nb_net) made by nb_create or nb_load
! and released by nb_free.  A model loaded with an input standardisation keeps it: nb_predict
! and nb_train then standardise a copy of x (the only case that copies), and nb_save keeps it.
! A target standardisation is kept too: nb_predict answers in the targets' units and nb_train
! standardises a copy of t.
!
! Derivatives with respect to the inputs (include/nablas/deriv.h) go through a context,
! type(nb_deriv), made by nb_deriv_create for a network and a maximum batch and released by
! nb_deriv_free; after it is made nothing allocates.  Layout, column-major and without copies:
! nb_jacobian fills j(outputs, inputs, rows) with j(i, k, r) = dy_i/dx_k of row r (each
! j(:, :, r) is that row's Jacobian matrix, as LAPACK wants it); nb_jvp fills jv(outputs, rows)
! with J v per row from v(inputs, rows); nb_vjp fills uj(inputs, rows) with u^T J per row from
! u(outputs, rows).  All in the data's units (the model's standardisations applied).  The three
! are generic: all arrays real(4), or all real(8) (narrowed to float in the context's own
! buffers, block by block; the same bits as real(4) on real(4) values; NB_ERR_NONFINITE for a
! value beyond real(4)'s range).
!
! Prediction in one call, as `nablas predict` answers (include/nablas/predict.h): a
! type(nb_model) loaded by nb_model_load keeps the whole model file (network, standardisations,
! loss, class names); a type(nb_predictor) made from it by nb_predictor_create predicts in the
! user's units: regression in the targets' units (the target standardisation undone), softmax
! probabilities for classifiers (each column of y sums to 1).  nb_predictor_run and
! nb_predictor_classes take real(4) or real(8) arrays x(inputs, rows) without copies (real(8)
! is narrowed to float in the predictor's own buffers, block by block; the network computes in
! float32).  Classes are 1-based, as Fortran indexes: nb_class_name(model, k) is the name of
! class k.  After nb_predictor_create nothing allocates; one predictor per thread.  The model
! must outlive its predictors.
module nablas
  use, intrinsic :: iso_c_binding
  implicit none
  private

  ! Status codes (include/nablas/status.h)
  integer, parameter, public :: NB_OK = 0, NB_ERR_NULL = 1, NB_ERR_SHAPE = 2, NB_ERR_ARG = 3, &
    NB_ERR_ALIAS = 4, NB_ERR_NOMEM = 5, NB_ERR_OVERFLOW = 6, NB_ERR_LOSS_ACT = 7, &
    NB_ERR_STATE = 8, NB_ERR_IO = 9, NB_ERR_BAD_MAGIC = 10, NB_ERR_VERSION = 11, &
    NB_ERR_TRUNCATED = 12, NB_ERR_CHECKSUM = 13, NB_ERR_CORRUPT = 14, NB_ERR_PARSE = 15, &
    NB_ERR_UNSUPPORTED = 16, NB_ERR_NONFINITE = 17, NB_ERR_LIMIT = 18, NB_ERR_CPU = 19, &
    NB_ERR_MPI = 20, NB_ERR_TYPE = 21
  ! Activations (nb_act) and losses (nb_loss)
  integer, parameter, public :: NB_ACT_IDENTITY = 0, NB_ACT_RELU = 1, NB_ACT_LEAKY_RELU = 2, &
    NB_ACT_SIGMOID = 3, NB_ACT_TANH = 4, NB_ACT_SOFTMAX = 5, NB_ACT_GELU = 6, &
    NB_ACT_GELU_TANH = 7, NB_ACT_SILU = 8, NB_ACT_SOFTPLUS = 9, NB_ACT_ELU = 10
  integer, parameter, public :: NB_LOSS_MSE = 0, NB_LOSS_BCE = 1, NB_LOSS_SOFTMAX_CE = 2

  ! A network, with the loss and the input and target standardisations of the model it came
  ! from (target_norm: the network predicts (y - mean) / std; nb_predict answers in y's units).
  type, public :: nb_net
    type(c_ptr) :: net = c_null_ptr, norm = c_null_ptr, target_norm = c_null_ptr
    integer :: loss = NB_LOSS_MSE
  end type

  public :: nb_create, nb_free, nb_save, nb_load, nb_predict, nb_train, nb_message, &
    nb_num_inputs, nb_num_outputs, nb_num_layers, nb_layer_params
  public :: nb_deriv_create, nb_deriv_free, nb_jacobian, nb_jvp, nb_vjp

  ! Jacobian modes (nb_deriv_mode): automatic (forward when inputs <= outputs), forward, reverse
  integer, parameter, public :: NB_DERIV_AUTO = 0, NB_DERIV_FORWARD = 1, NB_DERIV_REVERSE = 2

  ! A derivative context for one network (which must outlive it); one per thread.
  type, public :: nb_deriv
    type(c_ptr) :: ctx = c_null_ptr
    integer :: inputs = 0, outputs = 0
  end type
  public :: nb_load_onnx, nb_save_onnx, nb_has_onnx

  ! A loaded model file; classes: the number of class names (0 for regression, or a
  ! classifier saved without names); loss: NB_LOSS_*.
  type, public :: nb_model
    type(c_ptr) :: m = c_null_ptr
    integer :: inputs = 0, outputs = 0, classes = 0, loss = NB_LOSS_MSE
  end type
  ! A predictor for one model (which must outlive it); one per thread.
  type, public :: nb_predictor
    type(c_ptr) :: p = c_null_ptr
    integer :: inputs = 0, outputs = 0
  end type
  public :: nb_model_load, nb_model_free, nb_class_name, nb_predictor_create, nb_predictor_free
  public :: nb_predictor_run, nb_predictor_classes
  ! real(4) and real(8) arrays alike
  interface nb_predictor_run
    module procedure predictor_run_r4, predictor_run_r8
  end interface
  interface nb_predictor_classes
    module procedure predictor_classes_r4, predictor_classes_r8
  end interface
  interface nb_jacobian
    module procedure jacobian_r4, jacobian_r8
  end interface
  interface nb_jvp
    module procedure jvp_r4, jvp_r8
  end interface
  interface nb_vjp
    module procedure vjp_r4, vjp_r8
  end interface

  type, bind(C) :: nb_layer_spec
    integer(c_size_t) :: units
    integer(c_int) :: act
    real(c_float) :: dropout
  end type

  type, bind(C) :: nb_tensor
    integer(c_size_t) :: rows, cols
    type(c_ptr) :: data
    type(c_ptr) :: data64 = c_null_ptr ! float64 tensors only (nablas.h); null here
  end type

  interface
    integer(c_int) function c_net_create(net, inputs, layers, n_layers, seed) &
        bind(C, name='nb_net_create')
      import :: c_ptr, c_size_t, c_int64_t, c_int, nb_layer_spec
      type(c_ptr), intent(out) :: net
      integer(c_size_t), value :: inputs, n_layers
      type(nb_layer_spec), intent(in) :: layers(*)
      integer(c_int64_t), value :: seed
    end function
    subroutine c_net_free(net) bind(C, name='nb_net_free')
      import :: c_ptr
      type(c_ptr), value :: net
    end subroutine
    integer(c_size_t) function c_net_inputs(net) bind(C, name='nb_net_inputs')
      import :: c_ptr, c_size_t
      type(c_ptr), value :: net
    end function
    integer(c_size_t) function c_net_outputs(net) bind(C, name='nb_net_outputs')
      import :: c_ptr, c_size_t
      type(c_ptr), value :: net
    end function
    integer(c_size_t) function c_net_num_layers(net) bind(C, name='nb_net_num_layers')
      import :: c_ptr, c_size_t
      type(c_ptr), value :: net
    end function
    integer(c_int) function c_net_layer_params(net, layer, w, b) &
        bind(C, name='nb_net_layer_params')
      import :: c_ptr, c_size_t, c_int, nb_tensor
      type(c_ptr), value :: net
      integer(c_size_t), value :: layer
      type(nb_tensor), intent(out) :: w, b
    end function
    integer(c_int) function c_fortran_save(net, loss, norm, target_norm, path) &
        bind(C, name='nb_fortran_save')
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: net, norm, target_norm
      integer(c_int), value :: loss
      character(kind=c_char), intent(in) :: path(*)
    end function
    integer(c_int) function c_fortran_load(net, loss, norm, target_norm, path) &
        bind(C, name='nb_fortran_load')
      import :: c_ptr, c_int, c_char
      type(c_ptr), intent(out) :: net, norm, target_norm
      integer(c_int), intent(out) :: loss
      character(kind=c_char), intent(in) :: path(*)
    end function
    integer(c_int) function c_fortran_save_onnx(net, loss, norm, target_norm, path) &
        bind(C, name='nb_fortran_save_onnx')
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: net, norm, target_norm
      integer(c_int), value :: loss
      character(kind=c_char), intent(in) :: path(*)
    end function
    integer(c_int) function c_fortran_load_onnx(net, loss, norm, target_norm, path) &
        bind(C, name='nb_fortran_load_onnx')
      import :: c_ptr, c_int, c_char
      type(c_ptr), intent(out) :: net, norm, target_norm
      integer(c_int), intent(out) :: loss
      character(kind=c_char), intent(in) :: path(*)
    end function
    integer(c_int) function c_fortran_onnx_available() bind(C, name='nb_fortran_onnx_available')
      import :: c_int
    end function
    type(c_ptr) function c_norm_mean(n) bind(C, name='nb_norm_mean')
      import :: c_ptr
      type(c_ptr), value :: n
    end function
    type(c_ptr) function c_norm_std(n) bind(C, name='nb_norm_std')
      import :: c_ptr
      type(c_ptr), value :: n
    end function
    integer(c_int) function c_net_predict(net, x, y) bind(C, name='nb_net_predict')
      import :: c_ptr, c_int, nb_tensor
      type(c_ptr), value :: net
      type(nb_tensor), intent(in) :: x, y
    end function
    integer(c_int) function c_fortran_train(net, x, t, loss, epochs, batch_size, lr, seed, &
        last_loss) bind(C, name='nb_fortran_train')
      import :: c_ptr, c_int, c_size_t, c_float, c_int64_t, c_double, nb_tensor
      type(c_ptr), value :: net
      type(nb_tensor), intent(in) :: x, t
      integer(c_int), value :: loss
      integer(c_size_t), value :: epochs, batch_size
      real(c_float), value :: lr
      integer(c_int64_t), value :: seed
      real(c_double), intent(out) :: last_loss
    end function
    subroutine c_norm_free(n) bind(C, name='nb_norm_free')
      import :: c_ptr
      type(c_ptr), value :: n
    end subroutine
    integer(c_int) function c_norm_apply_to(n, x, y) bind(C, name='nb_norm_apply_to')
      import :: c_ptr, c_int, nb_tensor
      type(c_ptr), value :: n
      type(nb_tensor), intent(in) :: x, y
    end function
    integer(c_int) function c_fortran_deriv_create(ctx, net, norm, target_norm, probs, mode, &
        max_batch) bind(C, name='nb_fortran_deriv_create')
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), intent(out) :: ctx
      type(c_ptr), value :: net, norm, target_norm
      integer(c_int), value :: probs, mode
      integer(c_size_t), value :: max_batch
    end function
    subroutine c_deriv_ctx_free(ctx) bind(C, name='nb_deriv_ctx_free')
      import :: c_ptr
      type(c_ptr), value :: ctx
    end subroutine
    integer(c_int) function c_deriv_jacobian_t(ctx, x, jt, y) bind(C, name='nb_deriv_jacobian_t')
      import :: c_ptr, c_int, nb_tensor
      type(c_ptr), value :: ctx, y
      type(nb_tensor), intent(in) :: x, jt
    end function
    integer(c_int) function c_deriv_jvp(ctx, x, v, jv, y) bind(C, name='nb_deriv_jvp')
      import :: c_ptr, c_int, nb_tensor
      type(c_ptr), value :: ctx, y
      type(nb_tensor), intent(in) :: x, v, jv
    end function
    integer(c_int) function c_deriv_vjp(ctx, x, u, uj, y) bind(C, name='nb_deriv_vjp')
      import :: c_ptr, c_int, nb_tensor
      type(c_ptr), value :: ctx, y
      type(nb_tensor), intent(in) :: x, u, uj
    end function
    integer(c_int) function c_fortran_model_load(m, path) bind(C, name='nb_fortran_model_load')
      import :: c_ptr, c_int, c_char
      type(c_ptr), intent(out) :: m
      character(kind=c_char), intent(in) :: path(*)
    end function
    subroutine c_fortran_model_free(m) bind(C, name='nb_fortran_model_free')
      import :: c_ptr
      type(c_ptr), value :: m
    end subroutine
    subroutine c_fortran_model_info(m, inputs, outputs, classes, loss) &
        bind(C, name='nb_fortran_model_info')
      import :: c_ptr, c_size_t, c_int
      type(c_ptr), value :: m
      integer(c_size_t), intent(out) :: inputs, outputs, classes
      integer(c_int), intent(out) :: loss
    end subroutine
    type(c_ptr) function c_fortran_class_name(m, k) bind(C, name='nb_fortran_class_name')
      import :: c_ptr, c_size_t
      type(c_ptr), value :: m
      integer(c_size_t), value :: k
    end function
    integer(c_int) function c_predictor_create(p, m, max_batch) bind(C, name='nb_predictor_create')
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), intent(out) :: p
      type(c_ptr), value :: m
      integer(c_size_t), value :: max_batch
    end function
    subroutine c_predictor_free(p) bind(C, name='nb_predictor_free')
      import :: c_ptr
      type(c_ptr), value :: p
    end subroutine
    integer(c_int) function c_predictor_run(p, x, y) bind(C, name='nb_predictor_run')
      import :: c_ptr, c_int, nb_tensor
      type(c_ptr), value :: p
      type(nb_tensor), intent(in) :: x, y
    end function
    integer(c_int) function c_predictor_classes(p, x, classes) bind(C, name='nb_predictor_classes')
      import :: c_ptr, c_int, c_size_t, nb_tensor
      type(c_ptr), value :: p
      type(nb_tensor), intent(in) :: x
      integer(c_size_t), intent(out) :: classes(*)
    end function
    integer(c_int) function c_predictor_run_f64(p, x, rows, y) bind(C, name='nb_predictor_run_f64')
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: p, x, y
      integer(c_size_t), value :: rows
    end function
    integer(c_int) function c_predictor_classes_f64(p, x, rows, classes) &
        bind(C, name='nb_predictor_classes_f64')
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: p, x
      integer(c_size_t), value :: rows
      integer(c_size_t), intent(out) :: classes(*)
    end function
    integer(c_int) function c_deriv_jacobian_t_f64(ctx, x, rows, jt, y) &
        bind(C, name='nb_deriv_jacobian_t_f64')
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ctx, x, jt, y
      integer(c_size_t), value :: rows
    end function
    integer(c_int) function c_deriv_jvp_f64(ctx, x, v, rows, jv, y) bind(C, name='nb_deriv_jvp_f64')
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ctx, x, v, jv, y
      integer(c_size_t), value :: rows
    end function
    integer(c_int) function c_deriv_vjp_f64(ctx, x, u, rows, uj, y) bind(C, name='nb_deriv_vjp_f64')
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ctx, x, u, uj, y
      integer(c_size_t), value :: rows
    end function
    type(c_ptr) function c_status_str(status) bind(C, name='nb_status_str')
      import :: c_ptr, c_int
      integer(c_int), value :: status
    end function
    integer(c_size_t) function c_strlen(s) bind(C, name='strlen')
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
    end function
  end interface

contains

  ! A network on `inputs` features with size(units) dense layers: units(k) outputs and
  ! activation acts(k) (NB_ACT_*), initialised from seed (default 0).  On success it replaces
  ! (and frees) what net held; on failure net is unchanged.
  integer function nb_create(net, inputs, units, acts, seed) result(status)
    type(nb_net), intent(inout) :: net
    type(nb_net) :: made
    integer, intent(in) :: inputs, units(:), acts(:)
    integer, intent(in), optional :: seed
    type(nb_layer_spec) :: spec(size(units))
    integer(c_int64_t) :: s
    integer :: k
    status = NB_ERR_ARG
    if (size(acts) /= size(units) .or. size(units) < 1 .or. inputs < 1) return
    if (any(units < 1)) return
    do k = 1, size(units)
      spec(k)%units = int(units(k), c_size_t)
      spec(k)%act = int(acts(k), c_int)
      spec(k)%dropout = 0.0_c_float
    end do
    s = 0
    if (present(seed)) s = int(seed, c_int64_t)
    status = c_net_create(made%net, int(inputs, c_size_t), spec, int(size(units), c_size_t), s)
    if (status /= NB_OK) return
    call nb_free(net)
    net = made
  end function

  ! Releases the network (and its standardisation); safe on a freed or never-made one.
  subroutine nb_free(net)
    type(nb_net), intent(inout) :: net
    call c_net_free(net%net)
    call c_norm_free(net%norm)
    call c_norm_free(net%target_norm)
    net%net = c_null_ptr
    net%norm = c_null_ptr
    net%target_norm = c_null_ptr
  end subroutine

  integer function nb_num_inputs(net)
    type(nb_net), intent(in) :: net
    nb_num_inputs = int(c_net_inputs(net%net))
  end function

  integer function nb_num_outputs(net)
    type(nb_net), intent(in) :: net
    nb_num_outputs = int(c_net_outputs(net%net))
  end function

  integer function nb_num_layers(net)
    type(nb_net), intent(in) :: net
    nb_num_layers = int(c_net_num_layers(net%net))
  end function

  ! Pointers into layer k's (1-based) parameters, no copy: w(outputs, inputs), as PyTorch's
  ! nn.Linear holds it (the C layout is inputs x outputs, row-major), and b(outputs).
  ! Writing through them changes the network.
  integer function nb_layer_params(net, k, w, b) result(status)
    type(nb_net), intent(in) :: net
    integer, intent(in) :: k
    real(c_float), pointer, intent(out) :: w(:, :), b(:)
    type(nb_tensor) :: tw, tb
    nullify (w, b)
    status = NB_ERR_ARG
    if (k < 1) return
    status = c_net_layer_params(net%net, int(k - 1, c_size_t), tw, tb)
    if (status /= NB_OK) return
    call c_f_pointer(tw%data, w, [tw%cols, tw%rows])
    call c_f_pointer(tb%data, b, [tb%cols])
  end function

  ! Saves the network as a model file (atomically) with its standardisations and with `loss`
  ! (default: the loss it was loaded with, else NB_LOSS_MSE).
  integer function nb_save(net, path, loss) result(status)
    type(nb_net), intent(in) :: net
    character(len=*), intent(in) :: path
    integer, intent(in), optional :: loss
    integer(c_int) :: l
    l = int(net%loss, c_int)
    if (present(loss)) l = int(loss, c_int)
    status = c_fortran_save(net%net, l, net%norm, net%target_norm, c_string(path))
  end function

  ! Loads a model file (any made by nablas: train, import, nb_save).  On success it replaces
  ! (and frees) what net held; on failure net is unchanged.
  integer function nb_load(net, path) result(status)
    type(nb_net), intent(inout) :: net
    character(len=*), intent(in) :: path
    type(nb_net) :: made
    integer(c_int) :: l
    status = c_fortran_load(made%net, l, made%norm, made%target_norm, c_string(path))
    if (status /= NB_OK) return
    made%loss = int(l)
    call nb_free(net)
    net = made
  end function

  ! Loads an ONNX file (docs/onnx.md: what nablas exports, torch.onnx.export's MLPs, ...) with
  ! its standardisations and loss.  As nb_load: on failure net is unchanged.  NB_ERR_UNSUPPORTED
  ! for a graph nablas cannot represent, or when the library was built without ONNX
  ! (nb_has_onnx() is then false).
  integer function nb_load_onnx(net, path) result(status)
    type(nb_net), intent(inout) :: net
    character(len=*), intent(in) :: path
    type(nb_net) :: made
    integer(c_int) :: l
    status = c_fortran_load_onnx(made%net, l, made%norm, made%target_norm, c_string(path))
    if (status /= NB_OK) return
    made%loss = int(l)
    call nb_free(net)
    net = made
  end function

  ! Saves the network as an ONNX file (opset 13, atomically) with its standardisations as graph
  ! nodes and `loss` (default: the loss it was loaded with) in its metadata.
  integer function nb_save_onnx(net, path, loss) result(status)
    type(nb_net), intent(in) :: net
    character(len=*), intent(in) :: path
    integer, intent(in), optional :: loss
    integer(c_int) :: l
    l = int(net%loss, c_int)
    if (present(loss)) l = int(loss, c_int)
    status = c_fortran_save_onnx(net%net, l, net%norm, net%target_norm, c_string(path))
  end function

  ! True when the library reads and writes ONNX (built with the onnx feature).
  logical function nb_has_onnx()
    nb_has_onnx = c_fortran_onnx_available() /= 0
  end function

  ! y(outputs, rows) = the network's outputs for x(inputs, rows).
  integer function nb_predict(net, x, y) result(status)
    type(nb_net), intent(in) :: net
    real(c_float), intent(in), target, contiguous :: x(:, :)
    real(c_float), intent(inout), target, contiguous :: y(:, :)
    real(c_float), allocatable, target :: xs(:, :)
    real(c_float), pointer :: mean(:), sd(:)
    integer :: r
    status = NB_ERR_SHAPE
    if (size(x, 2) /= size(y, 2)) return
    if (c_associated(net%norm)) then
      allocate (xs(size(x, 1), size(x, 2)))
      status = c_norm_apply_to(net%norm, tensor(x), tensor(xs))
      if (status == NB_OK) status = c_net_predict(net%net, tensor(xs), tensor(y))
    else
      status = c_net_predict(net%net, tensor(x), tensor(y))
    end if
    if (status /= NB_OK .or. .not. c_associated(net%target_norm)) return
    call c_f_pointer(c_norm_mean(net%target_norm), mean, [size(y, 1)])
    call c_f_pointer(c_norm_std(net%target_norm), sd, [size(y, 1)])
    do r = 1, size(y, 2)
      y(:, r) = y(:, r) * sd + mean  ! back to the targets' units
    end do
  end function

  ! Trains on x(inputs, rows) and targets t(outputs, rows) with the library's default options
  ! (nb_train_opts_default: MSE, batch 32, 10 epochs, lr 0.01, seed 0, shuffled) except those
  ! given.  final_loss receives the mean loss of the last epoch (in standardised units when
  ! the model standardises its targets).
  integer function nb_train(net, x, t, loss, epochs, batch_size, lr, seed, final_loss) &
      result(status)
    type(nb_net), intent(in) :: net
    real(c_float), intent(in), target, contiguous :: x(:, :), t(:, :)
    integer, intent(in), optional :: loss, epochs, batch_size, seed
    real, intent(in), optional :: lr
    real(c_double), intent(out), optional :: final_loss
    real(c_float), allocatable, target :: xs(:, :), ts(:, :)
    integer(c_int) :: l
    integer(c_size_t) :: e, b
    real(c_float) :: r
    integer(c_int64_t) :: s
    real(c_double) :: last
    status = NB_ERR_SHAPE
    if (size(x, 2) /= size(t, 2)) return
    status = NB_ERR_ARG
    l = -1; e = 0; b = 0; r = -1.0; s = 0
    if (present(loss)) l = int(loss, c_int)
    if (present(epochs)) then
      if (epochs < 1) return
      e = int(epochs, c_size_t)
    end if
    if (present(batch_size)) then
      if (batch_size < 1) return
      b = int(batch_size, c_size_t)
    end if
    if (present(lr)) then
      if (.not. (lr >= 0.0)) return  ! negative or NaN
      r = real(lr, c_float)
    end if
    if (present(seed)) s = int(seed, c_int64_t)
    last = 0
    ! standardised copies where the model standardises (x or t), the caller's arrays otherwise
    allocate (xs(merge(size(x, 1), 0, c_associated(net%norm)), size(x, 2)))
    allocate (ts(merge(size(t, 1), 0, c_associated(net%target_norm)), size(t, 2)))
    status = NB_OK
    if (c_associated(net%norm)) status = c_norm_apply_to(net%norm, tensor(x), tensor(xs))
    if (status == NB_OK .and. c_associated(net%target_norm)) &
      status = c_norm_apply_to(net%target_norm, tensor(t), tensor(ts))
    if (status /= NB_OK) return
    if (c_associated(net%norm) .and. c_associated(net%target_norm)) then
      status = c_fortran_train(net%net, tensor(xs), tensor(ts), l, e, b, r, s, last)
    else if (c_associated(net%norm)) then
      status = c_fortran_train(net%net, tensor(xs), tensor(t), l, e, b, r, s, last)
    else if (c_associated(net%target_norm)) then
      status = c_fortran_train(net%net, tensor(x), tensor(ts), l, e, b, r, s, last)
    else
      status = c_fortran_train(net%net, tensor(x), tensor(t), l, e, b, r, s, last)
    end if
    if (present(final_loss)) final_loss = last
  end function

  ! A derivative context for net (with its standardisations) and batches of up to max_batch
  ! rows (more are done in chunks).  probabilities: differentiate a classifier's softmax
  ! probabilities rather than its logits (default .false.); mode: NB_DERIV_* (default auto).
  ! On success it replaces (and frees) what ctx held; on failure ctx is unchanged.
  integer function nb_deriv_create(ctx, net, max_batch, probabilities, mode) result(status)
    type(nb_deriv), intent(inout) :: ctx
    type(nb_net), intent(in) :: net
    integer, intent(in) :: max_batch
    logical, intent(in), optional :: probabilities
    integer, intent(in), optional :: mode
    type(c_ptr) :: made
    integer(c_int) :: p, m
    status = NB_ERR_SHAPE
    if (max_batch < 1) return
    p = 0
    m = NB_DERIV_AUTO
    if (present(probabilities)) p = merge(1, 0, probabilities)
    if (present(mode)) m = int(mode, c_int)
    status = c_fortran_deriv_create(made, net%net, net%norm, net%target_norm, p, m, &
                                    int(max_batch, c_size_t))
    if (status /= NB_OK) return
    call nb_deriv_free(ctx)
    ctx%ctx = made
    ctx%inputs = nb_num_inputs(net)
    ctx%outputs = nb_num_outputs(net)
  end function

  ! Releases the context; safe on a freed or never-made one.
  subroutine nb_deriv_free(ctx)
    type(nb_deriv), intent(inout) :: ctx
    call c_deriv_ctx_free(ctx%ctx)
    ctx%ctx = c_null_ptr
  end subroutine

  ! j(outputs, inputs, rows): j(:, :, r) = dy/dx of row r of x(inputs, rows); y(outputs, rows),
  ! if present, gets the outputs.  j's memory is C's rows x inputs x outputs, which
  ! nb_deriv_jacobian_t writes directly.
  integer function jacobian_r4(ctx, x, j, y) result(status)
    type(nb_deriv), intent(inout) :: ctx
    real(c_float), intent(in), target, contiguous :: x(:, :)
    real(c_float), intent(inout), target, contiguous :: j(:, :, :)
    real(c_float), intent(inout), target, contiguous, optional :: y(:, :)
    type(nb_tensor), target :: ty
    type(nb_tensor) :: tj
    status = NB_ERR_SHAPE
    if (size(j, 1) /= ctx%outputs .or. size(j, 2) /= ctx%inputs .or. size(j, 3) /= size(x, 2)) &
      return
    tj%rows = int(size(j, 3), c_size_t)
    tj%cols = int(size(j, 1) * size(j, 2), c_size_t)
    tj%data = c_loc(j)
    if (present(y)) then
      ty = tensor(y)
      status = c_deriv_jacobian_t(ctx%ctx, tensor(x), tj, c_loc(ty))
    else
      status = c_deriv_jacobian_t(ctx%ctx, tensor(x), tj, c_null_ptr)
    end if
  end function

  ! jv(outputs, rows): J v for each row, v(inputs, rows) (forward mode).
  integer function jvp_r4(ctx, x, v, jv, y) result(status)
    type(nb_deriv), intent(inout) :: ctx
    real(c_float), intent(in), target, contiguous :: x(:, :), v(:, :)
    real(c_float), intent(inout), target, contiguous :: jv(:, :)
    real(c_float), intent(inout), target, contiguous, optional :: y(:, :)
    type(nb_tensor), target :: ty
    if (present(y)) then
      ty = tensor(y)
      status = c_deriv_jvp(ctx%ctx, tensor(x), tensor(v), tensor(jv), c_loc(ty))
    else
      status = c_deriv_jvp(ctx%ctx, tensor(x), tensor(v), tensor(jv), c_null_ptr)
    end if
  end function

  ! uj(inputs, rows): u^T J for each row, u(outputs, rows) (reverse mode).
  integer function vjp_r4(ctx, x, u, uj, y) result(status)
    type(nb_deriv), intent(inout) :: ctx
    real(c_float), intent(in), target, contiguous :: x(:, :), u(:, :)
    real(c_float), intent(inout), target, contiguous :: uj(:, :)
    real(c_float), intent(inout), target, contiguous, optional :: y(:, :)
    type(nb_tensor), target :: ty
    if (present(y)) then
      ty = tensor(y)
      status = c_deriv_vjp(ctx%ctx, tensor(x), tensor(u), tensor(uj), c_loc(ty))
    else
      status = c_deriv_vjp(ctx%ctx, tensor(x), tensor(u), tensor(uj), c_null_ptr)
    end if
  end function

  ! Loads a model file (made by `nablas train`, import or nb_save) whole: network,
  ! standardisations, loss, class names.  On success it replaces (and frees) what model held;
  ! on failure model is unchanged.
  integer function nb_model_load(model, path) result(status)
    type(nb_model), intent(inout) :: model
    character(len=*), intent(in) :: path
    type(c_ptr) :: made
    integer(c_size_t) :: inputs, outputs, classes
    integer(c_int) :: loss
    status = c_fortran_model_load(made, c_string(path))
    if (status /= NB_OK) return
    call nb_model_free(model)
    call c_fortran_model_info(made, inputs, outputs, classes, loss)
    model%m = made
    model%inputs = int(inputs)
    model%outputs = int(outputs)
    model%classes = int(classes)
    model%loss = int(loss)
  end function

  ! Releases the model; safe on a freed or never-loaded one.  Free its predictors first.
  subroutine nb_model_free(model)
    type(nb_model), intent(inout) :: model
    call c_fortran_model_free(model%m)
    model = nb_model()
  end subroutine

  ! The name of class k (1..model%classes), or '' for any other k or a model without names.
  function nb_class_name(model, k) result(name)
    type(nb_model), intent(in) :: model
    integer, intent(in) :: k
    character(len=:), allocatable :: name
    name = ''
    if (k < 1 .or. k > model%classes) return
    name = c_text(c_fortran_class_name(model%m, int(k - 1, c_size_t)))
  end function

  ! A predictor for model, processing up to max_batch rows at a time (default 256; any number
  ! of rows per call).  On success it replaces (and frees) what pred held; on failure pred is
  ! unchanged.  NB_ERR_NULL for a model not loaded, NB_ERR_SHAPE for max_batch < 1.
  integer function nb_predictor_create(pred, model, max_batch) result(status)
    type(nb_predictor), intent(inout) :: pred
    type(nb_model), intent(in) :: model
    integer, intent(in), optional :: max_batch
    type(c_ptr) :: made
    integer(c_size_t) :: mb
    mb = 256
    if (present(max_batch)) then
      status = NB_ERR_SHAPE
      if (max_batch < 1) return
      mb = int(max_batch, c_size_t)
    end if
    status = c_predictor_create(made, model%m, mb)
    if (status /= NB_OK) return
    call nb_predictor_free(pred)
    pred%p = made
    pred%inputs = model%inputs
    pred%outputs = model%outputs
  end function

  ! Releases the predictor; safe on a freed or never-made one.
  subroutine nb_predictor_free(pred)
    type(nb_predictor), intent(inout) :: pred
    call c_predictor_free(pred%p)
    pred = nb_predictor()
  end subroutine

  ! nb_predictor_run(pred, x, y): y(outputs, rows) = the model's answer for x(inputs, rows),
  ! both real(4) or both real(8).  NB_ERR_NULL (predictor not made), NB_ERR_SHAPE (widths or
  ! row counts differ); y is untouched on failure.
  integer function predictor_run_r4(pred, x, y) result(status)
    type(nb_predictor), intent(inout) :: pred
    real(c_float), intent(in), target, contiguous :: x(:, :)
    real(c_float), intent(inout), target, contiguous :: y(:, :)
    status = run_check(pred, size(x, 1), size(x, 2), size(y, 1), size(y, 2))
    if (status /= NB_OK .or. size(x, 2) == 0) return
    status = c_predictor_run(pred%p, tensor(x), tensor(y))
  end function

  integer function predictor_run_r8(pred, x, y) result(status)
    type(nb_predictor), intent(inout) :: pred
    real(c_double), intent(in), target, contiguous :: x(:, :)
    real(c_double), intent(inout), target, contiguous :: y(:, :)
    status = run_check(pred, size(x, 1), size(x, 2), size(y, 1), size(y, 2))
    if (status /= NB_OK .or. size(x, 2) == 0) return
    status = c_predictor_run_f64(pred%p, c_loc(x), int(size(x, 2), c_size_t), c_loc(y))
  end function

  ! nb_predictor_classes(pred, x, classes): classes(r) = the class (1-based) of column r of
  ! x(inputs, rows), real(4) or real(8): the largest output, or for one output 2 if it is
  ! >= 0.5, else 1.  NB_ERR_STATE for a regression model; classes is untouched on failure.
  integer function predictor_classes_r4(pred, x, classes) result(status)
    type(nb_predictor), intent(inout) :: pred
    real(c_float), intent(in), target, contiguous :: x(:, :)
    integer, intent(inout) :: classes(:)
    integer(c_size_t) :: c(256)
    type(nb_tensor) :: tx
    integer :: s, n
    status = run_check(pred, size(x, 1), size(x, 2), pred%outputs, size(classes))
    if (status /= NB_OK) return
    ! through a fixed buffer of C's size_t, 256 rows at a time: nothing allocates
    do s = 1, size(x, 2), size(c)
      n = min(size(c), size(x, 2) - s + 1)
      tx%rows = int(n, c_size_t)
      tx%cols = int(size(x, 1), c_size_t)
      tx%data = c_loc(x(1, s))
      status = c_predictor_classes(pred%p, tx, c)
      if (status /= NB_OK) return
      classes(s:s + n - 1) = int(c(1:n)) + 1
    end do
  end function

  integer function predictor_classes_r8(pred, x, classes) result(status)
    type(nb_predictor), intent(inout) :: pred
    real(c_double), intent(in), target, contiguous :: x(:, :)
    integer, intent(inout) :: classes(:)
    integer(c_size_t) :: c(256)
    integer :: s, n
    status = run_check(pred, size(x, 1), size(x, 2), pred%outputs, size(classes))
    if (status /= NB_OK) return
    do s = 1, size(x, 2), size(c)
      n = min(size(c), size(x, 2) - s + 1)
      status = c_predictor_classes_f64(pred%p, c_loc(x(1, s)), int(n, c_size_t), c)
      if (status /= NB_OK) return
      classes(s:s + n - 1) = int(c(1:n)) + 1
    end do
  end function

  ! The real(8) forms of nb_jacobian, nb_jvp and nb_vjp (C's nb_deriv_*_f64): the same
  ! arrays in real(8), narrowed to float block by block in the context's own buffers.
  integer function jacobian_r8(ctx, x, j, y) result(status)
    type(nb_deriv), intent(inout) :: ctx
    real(c_double), intent(in), target, contiguous :: x(:, :)
    real(c_double), intent(inout), target, contiguous :: j(:, :, :)
    real(c_double), intent(inout), target, contiguous, optional :: y(:, :)
    type(c_ptr) :: py
    status = NB_ERR_NULL
    if (.not. c_associated(ctx%ctx)) return
    status = NB_ERR_SHAPE
    if (size(x, 1) /= ctx%inputs .or. size(j, 1) /= ctx%outputs .or. size(j, 2) /= ctx%inputs &
        .or. size(j, 3) /= size(x, 2) .or. size(x, 2) < 1) return
    py = c_null_ptr
    if (present(y)) then
      if (size(y, 1) /= ctx%outputs .or. size(y, 2) /= size(x, 2)) return
      py = c_loc(y)
    end if
    status = c_deriv_jacobian_t_f64(ctx%ctx, c_loc(x), int(size(x, 2), c_size_t), c_loc(j), py)
  end function

  integer function jvp_r8(ctx, x, v, jv, y) result(status)
    type(nb_deriv), intent(inout) :: ctx
    real(c_double), intent(in), target, contiguous :: x(:, :), v(:, :)
    real(c_double), intent(inout), target, contiguous :: jv(:, :)
    real(c_double), intent(inout), target, contiguous, optional :: y(:, :)
    type(c_ptr) :: py
    status = deriv_check(ctx, x, ctx%inputs, v, ctx%outputs, jv)
    if (status /= NB_OK) return
    status = NB_ERR_SHAPE
    py = c_null_ptr
    if (present(y)) then
      if (size(y, 1) /= ctx%outputs .or. size(y, 2) /= size(x, 2)) return
      py = c_loc(y)
    end if
    status = c_deriv_jvp_f64(ctx%ctx, c_loc(x), c_loc(v), int(size(x, 2), c_size_t), c_loc(jv), &
                             py)
  end function

  integer function vjp_r8(ctx, x, u, uj, y) result(status)
    type(nb_deriv), intent(inout) :: ctx
    real(c_double), intent(in), target, contiguous :: x(:, :), u(:, :)
    real(c_double), intent(inout), target, contiguous :: uj(:, :)
    real(c_double), intent(inout), target, contiguous, optional :: y(:, :)
    type(c_ptr) :: py
    status = deriv_check(ctx, x, ctx%outputs, u, ctx%inputs, uj)
    if (status /= NB_OK) return
    status = NB_ERR_SHAPE
    py = c_null_ptr
    if (present(y)) then
      if (size(y, 1) /= ctx%outputs .or. size(y, 2) /= size(x, 2)) return
      py = c_loc(y)
    end if
    status = c_deriv_vjp_f64(ctx%ctx, c_loc(x), c_loc(u), int(size(x, 2), c_size_t), c_loc(uj), &
                             py)
  end function

  ! The text of a status code.
  function nb_message(status) result(msg)
    integer, intent(in) :: status
    character(len=:), allocatable :: msg
    type(c_ptr) :: p
    character(kind=c_char), pointer :: chars(:)
    integer :: n, i
    p = c_status_str(int(status, c_int))
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate (character(len=n) :: msg)
    do i = 1, n
      msg(i:i) = chars(i)
    end do
  end function

  ! ---- private helpers ----

  ! The row-major rows x features view of a(features, rows): the same memory, no copy.
  type(nb_tensor) function tensor(a)
    real(c_float), intent(in), target, contiguous :: a(:, :)
    tensor%rows = int(size(a, 2), c_size_t)
    tensor%cols = int(size(a, 1), c_size_t)
    tensor%data = c_loc(a)
  end function

  ! The common checks of the predictor calls: made, x(inputs, rows), out(outputs, rows).
  integer function run_check(pred, x_cols, x_rows, out_cols, out_rows) result(status)
    type(nb_predictor), intent(in) :: pred
    integer, intent(in) :: x_cols, x_rows, out_cols, out_rows
    status = NB_ERR_NULL
    if (.not. c_associated(pred%p)) return
    status = NB_ERR_SHAPE
    if (x_cols /= pred%inputs .or. out_cols /= pred%outputs .or. x_rows /= out_rows) return
    status = NB_OK
  end function

  ! The real(8) JVP/VJP checks: a context, x(inputs, rows) with rows >= 1, w(w_rows, rows)
  ! and r(r_rows, rows).
  integer function deriv_check(ctx, x, w_rows, w, r_rows, r) result(status)
    type(nb_deriv), intent(in) :: ctx
    real(c_double), intent(in) :: x(:, :), w(:, :), r(:, :)
    integer, intent(in) :: w_rows, r_rows
    status = NB_ERR_NULL
    if (.not. c_associated(ctx%ctx)) return
    status = NB_ERR_SHAPE
    if (size(x, 1) /= ctx%inputs .or. size(x, 2) < 1 .or. size(w, 1) /= w_rows .or. &
        size(w, 2) /= size(x, 2) .or. size(r, 1) /= r_rows .or. size(r, 2) /= size(x, 2)) return
    status = NB_OK
  end function

  ! A NUL-terminated C string as a Fortran string ('' for NULL).
  function c_text(p) result(text)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: text
    character(kind=c_char), pointer :: chars(:)
    integer :: n, i
    if (.not. c_associated(p)) then
      text = ''
      return
    end if
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate (character(len=n) :: text)
    do i = 1, n
      text(i:i) = chars(i)
    end do
  end function

  function c_string(s) result(c)
    character(len=*), intent(in) :: s
    character(kind=c_char) :: c(len(s) + 1)
    integer :: i
    do i = 1, len(s)
      c(i) = s(i:i)
    end do
    c(len(s) + 1) = c_null_char
  end function
end module nablas
