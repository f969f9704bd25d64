// The villager's report form: the phone's position on request, and a lighter photo.
(function () {
  "use strict";
  var button = document.getElementById("locate");
  var status = document.getElementById("position-status");
  if (button && status) {
    if (!("geolocation" in navigator)) {
      button.hidden = true;
      status.textContent = "此手机无法获取位置，可在下面写明地点。";
    } else {
      button.addEventListener("click", function () {
        status.textContent = "正在获取位置…";
        navigator.geolocation.getCurrentPosition(function (pos) {
          document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
          document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
          document.getElementById("accuracy").value = Math.round(pos.coords.accuracy);
          status.textContent = "已获取位置（精度约 " + Math.round(pos.coords.accuracy) + " 米）。";
        }, function () {
          status.textContent = "没有获取到位置，可以不提供位置直接提交，或在下面写明地点。";
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }
  }
  // Camera photos are often 5 MB or more; on a slow link send a copy of at most 1600 px.
  var photo = document.getElementById("photo");
  var photoStatus = document.getElementById("photo-status");
  if (!photo) return;
  photo.addEventListener("change", function () {
    var chosen = photo.files && photo.files[0];
    if (photoStatus) photoStatus.textContent = chosen ? "已选择 1 张照片。" : "可不传照片；照片不超过 15M。";
  });
  if (!window.DataTransfer || !HTMLCanvasElement.prototype.toBlob) return;
  photo.addEventListener("change", function () {
    var file = photo.files && photo.files[0];
    if (!file || file.size < 600 * 1024 || !/^image\//.test(file.type)) return;
    var img = new Image();
    var url = URL.createObjectURL(file);
    img.onload = function () {
      var scale = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.naturalWidth * scale);
      canvas.height = Math.round(img.naturalHeight * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      canvas.toBlob(function (blob) {
        if (!blob || blob.size >= file.size) return;
        var list = new DataTransfer();
        list.items.add(new File([blob], "photo.jpg", { type: "image/jpeg" }));
        photo.files = list.files;
      }, "image/jpeg", 0.85);
    };
    img.onerror = function () { URL.revokeObjectURL(url); };
    img.src = url;
  });
})();
