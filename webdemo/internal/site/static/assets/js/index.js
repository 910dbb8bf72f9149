// The guide selector, like the original sample's project dropdown: choosing a guide
// opens it. Without JavaScript the form and the link list still work.
const form = document.getElementById('guide-form');
const select = document.getElementById('guide');

function openGuide() {
  const target = select.value;
  // Only our own paths: the value comes from our <option>s, but never navigate off-site.
  if (target.startsWith('/') && !target.startsWith('//')) {
    window.location.assign(target);
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  openGuide();
});
select.addEventListener('change', openGuide);
