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
! u(outputs, rows).  All in the data's units (the model's standardisations applied).
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
  integer function nb_jacobian(ctx, x, j, y) result(status)
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
  integer function nb_jvp(ctx, x, v, jv, y) result(status)
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
  integer function nb_vjp(ctx, x, u, uj, y) result(status)
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
